"""embervision.utils.make_grid / save_image: grid geometry and pixel values checked by hand."""
import io

import numpy as np
import pytest
from PIL import Image

import ember
from embervision import utils as vutils
from embervision.utils import make_grid, save_image


def _batch(b=5, c=3, h=4, w=3, seed=0, dtype=np.float32):
    return np.random.RandomState(seed).rand(b, c, h, w).astype(dtype)


def _expected_grid(imgs, nrow, padding, pad_value):
    """The 0.1.9 layout written out: cell (row y, column x) starts at y*(H+p) + 1 + p//2, x*(W+p) + 1 + p//2."""
    b, c, h, w = imgs.shape
    cols = min(nrow, b)
    rows = -(-b // cols)
    grid = np.full((3 if c == 1 else c, (h + padding) * rows + 1 + padding // 2,
                    (w + padding) * cols + 1 + padding // 2), pad_value, dtype=imgs.dtype)
    for k in range(b):
        y, x = k // cols, k % cols
        top, left = y * (h + padding) + 1 + padding // 2, x * (w + padding) + 1 + padding // 2
        grid[:, top:top + h, left:left + w] = imgs[k]
    return grid


@pytest.mark.parametrize("nrow, padding, pad_value", [(8, 2, 0), (2, 2, 0.5), (3, 0, 1), (2, 3, 0.25), (1, 1, 0)])
def test_make_grid_layout(nrow, padding, pad_value):
    a = _batch()
    g = make_grid(ember.from_numpy(a.copy()), nrow=nrow, padding=padding, pad_value=pad_value)
    assert g.type() == "torch.FloatTensor"
    np.testing.assert_array_equal(g.numpy(), _expected_grid(a, nrow, padding, pad_value))


def test_make_grid_shape_formula_by_hand():
    g = make_grid(ember.FloatTensor(5, 3, 4, 3).fill_(1), nrow=2)
    # 2 columns, 3 rows: (4 + 2) * 3 + 1 + 1 = 20 rows of pixels, (3 + 2) * 2 + 1 + 1 = 12 columns
    assert tuple(g.size()) == (3, 20, 12)
    arr = g.numpy()
    assert arr[:, 2:6, 2:5].min() == 1 and arr[:, 2:6, 7:10].min() == 1  # first row of cells
    assert arr[:, 14:18, 7:10].max() == 0  # the sixth cell is empty
    assert arr[:, :2].max() == 0 and arr[:, :, :2].max() == 0 and arr[:, 6:8].max() == 0


def test_make_grid_one_channel_list_non_contiguous_and_types():
    a = _batch(b=3, c=1, seed=1, dtype=np.float64)
    g = make_grid(ember.from_numpy(a.copy()), nrow=2)
    assert g.type() == "torch.DoubleTensor"
    np.testing.assert_array_equal(g.numpy(), _expected_grid(np.repeat(a, 3, axis=1), 2, 2, 0))
    # a list of 3-D images, including a non-contiguous (transposed) one
    b = _batch(b=4, c=3, h=5, w=5, seed=2)
    transposed = ember.from_numpy(b[3].transpose(0, 2, 1).copy()).transpose(1, 2)
    imgs = [ember.from_numpy(x.copy()) for x in b[:3]] + [transposed]
    np.testing.assert_array_equal(make_grid(imgs, nrow=3, padding=1).numpy(), _expected_grid(b, 3, 1, 0))
    bytes_ = (b * 255).astype(np.uint8)
    gb = make_grid(ember.from_numpy(bytes_.copy()), pad_value=7)
    assert gb.type() == "torch.ByteTensor"
    np.testing.assert_array_equal(gb.numpy(), _expected_grid(bytes_, 8, 2, 7))


def test_make_grid_single_images_come_back_with_three_channels():
    three = ember.from_numpy(_batch(b=1)[0].copy())
    assert make_grid(three) is three
    one = _batch(b=1, c=1)[0]
    g = make_grid(ember.from_numpy(one.copy()), normalize=True)  # 0.1.9 returns single images unnormalized
    np.testing.assert_array_equal(g.numpy(), np.repeat(one, 3, axis=0))
    g2 = make_grid(ember.from_numpy(one[0].copy()))
    np.testing.assert_array_equal(g2.numpy(), np.repeat(one, 3, axis=0))


def test_make_grid_normalize_global_each_and_range():
    a = _batch(b=2, c=3, h=2, w=2, seed=3) * 10 - 3
    t = ember.from_numpy(a.copy())
    g = make_grid(t, padding=0, normalize=True)
    np.testing.assert_array_equal(t.numpy(), a)  # the input is left alone
    lo, hi = a.min(), a.max()
    np.testing.assert_allclose(g.numpy(), _expected_grid((a - lo) / (hi - lo), 8, 0, 0), rtol=1e-6, atol=1e-6)
    g = make_grid(t, padding=0, normalize=True, scale_each=True)
    each = np.stack([(x - x.min()) / (x.max() - x.min()) for x in a])
    np.testing.assert_allclose(g.numpy(), _expected_grid(each, 8, 0, 0), rtol=1e-6, atol=1e-6)
    g = make_grid(t, padding=0, normalize=True, range=(0, 5))
    np.testing.assert_allclose(g.numpy(), _expected_grid(np.clip(a, 0, 5) / 5, 8, 0, 0), rtol=1e-6, atol=1e-6)
    const = make_grid(ember.FloatTensor(2, 3, 2, 2).fill_(4), normalize=True, padding=0)
    assert const.numpy().max() == 0 and not np.isnan(const.numpy()).any()


def test_make_grid_errors():
    with pytest.raises(TypeError, match=r"range has to be a tuple \(min, max\)"):
        make_grid(ember.FloatTensor(2, 3, 2, 2).zero_(), normalize=True, range=[0, 1])
    with pytest.raises(ValueError, match="every image must have the size of the first, 3x2x2, but image 1 has 3x2x3"):
        make_grid([ember.FloatTensor(3, 2, 2), ember.FloatTensor(3, 2, 3)])
    with pytest.raises(ValueError, match="expected a 4-D mini-batch"):
        make_grid(ember.FloatTensor(1, 1, 3, 2, 2))
    with pytest.raises(TypeError, match="make_grid: expected a tensor or a list of tensors, got ndarray"):
        make_grid(np.zeros((2, 3, 2, 2)))


def _saved(tmp_path, name, tensor, **kwargs):
    path = tmp_path / name
    save_image(tensor, str(path), **kwargs)
    with Image.open(str(path)) as img:
        return img.format, img.mode, np.array(img)


def test_save_image_png_pixels(tmp_path):
    a = _batch(b=3, seed=4) * 1.2 - 0.1  # values outside [0, 1] get clamped
    t = ember.from_numpy(a.copy())
    fmt, mode, arr = _saved(tmp_path, "grid.png", t, nrow=2, padding=2, pad_value=0.5)
    grid = _expected_grid(a, 2, 2, 0.5)
    # mul(255).clamp(0, 255).byte(): truncation toward zero
    expected = np.clip(grid * np.float32(255), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    assert fmt == "PNG" and mode == "RGB"
    np.testing.assert_array_equal(arr, expected)
    # the pad pixel between the first two cells: 0.5 * 255 = 127.5 -> 127
    assert tuple(arr[3, 5]) == (127, 127, 127)


def test_save_image_list_one_channel_normalized_and_no_extension(tmp_path):
    a = _batch(b=2, c=1, seed=5)
    imgs = [ember.from_numpy(x.copy()) for x in a]
    fmt, mode, arr = _saved(tmp_path, "noext", imgs, normalize=True, padding=1)
    n = (a - a.min()) / (a.max() - a.min())
    expected = np.clip(_expected_grid(np.repeat(n, 3, axis=1), 8, 1, 0) * 255, 0, 255)
    assert fmt == "PNG" and mode == "RGB"
    assert np.abs(arr.transpose(2, 0, 1).astype(int) - expected.astype(int)).max() <= 1
    buf = io.BytesIO()
    save_image(imgs[0], buf)
    assert buf.getvalue().startswith(b"\x89PNG")


def test_save_image_other_formats_follow_the_extension(tmp_path):
    t = ember.from_numpy(_batch(b=1, seed=6))
    fmt, _, arr = _saved(tmp_path, "one.bmp", t)
    assert fmt == "BMP"
    expected = (_expected_grid(_batch(b=1, seed=6), 8, 2, 0) * np.float32(255)).astype(np.uint8)
    np.testing.assert_array_equal(arr, expected.transpose(1, 2, 0))


def test_module_exports():
    assert vutils.__all__ == ["make_grid", "save_image"]


def test_package_frame_and_image_backend():
    import embervision as torchvision
    assert torchvision.get_image_backend() == "PIL"
    assert torchvision.utils.make_grid is make_grid
    assert torchvision.datasets.MNIST.__name__ == "MNIST" and torchvision.transforms.ToTensor.__name__ == "ToTensor"
    with pytest.raises(ValueError, match=r"^Invalid backend 'cv2'\. Options are 'PIL' and 'accimage'$"):
        torchvision.set_image_backend("cv2")
    try:
        torchvision.set_image_backend("accimage")
        assert torchvision.get_image_backend() == "accimage"
    finally:
        torchvision.set_image_backend("PIL")
    assert torchvision.get_image_backend() == "PIL"
