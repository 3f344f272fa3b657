"""embervision.transforms against hand computations with NumPy and PIL (torchvision can't be installed
beside the PyTorch oracle), on real photos from shared/data."""
import math
import random

import numpy as np
import pytest
from PIL import Image, ImageEnhance

import ember
from embervision import transforms
from _helpers.data import shared_data


@pytest.fixture(scope="module")
def photo():
    """A real RGB photo, 500 x 375 (w x h)."""
    with Image.open(shared_data("coco_labelme", "JPEGImages", "2011_000006.jpg")) as img:
        return img.convert("RGB")


@pytest.fixture(scope="module")
def small():
    """A real 32 x 32 RGB photo."""
    with Image.open(shared_data("cifar10_jpg", "test", "cat", "0003.jpg")) as img:
        return img.convert("RGB")


def _np(x):
    return np.asarray(x)


# ------------------------------------------------------------------------------------------ ToTensor
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "CMYK", "YCbCr", "LA"])
def test_to_tensor_pil_byte_modes(small, mode):
    img = small.convert(mode)
    t = transforms.ToTensor()(img)
    arr = _np(img)
    arr = arr[:, :, None] if arr.ndim == 2 else arr
    expected = arr.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    assert t.type() == "torch.FloatTensor" and t.is_contiguous()
    assert tuple(t.size()) == expected.shape
    np.testing.assert_array_equal(t.numpy(), expected)
    assert 0.0 <= t.min() and t.max() <= 1.0


def test_to_tensor_palette_image_gives_the_indices():
    with Image.open(shared_data("coco_labelme", "voc_masks", "SegmentationClass", "2011_000003.png")) as img:
        img.load()
        assert img.mode == "P"
        t = transforms.ToTensor()(img)
        idx = np.array(img)
    assert tuple(t.size()) == (1,) + idx.shape
    np.testing.assert_array_equal(t.numpy()[0], idx.astype(np.float32) / np.float32(255))


def test_to_tensor_int_modes_keep_their_values():
    arr = (np.arange(20 * 30, dtype=np.int32).reshape(20, 30) * 1000 - 5000)
    img = Image.fromarray(arr)
    assert img.mode == "I"
    t = transforms.ToTensor()(img)
    assert t.type() == "torch.IntTensor" and tuple(t.size()) == (1, 20, 30)
    np.testing.assert_array_equal(t.numpy()[0], arr)
    a16 = (np.arange(20 * 30).reshape(20, 30) * 7).astype(np.uint16)
    img16 = Image.frombuffer("I;16", (30, 20), a16.tobytes(), "raw", "I;16", 0, 1)
    t16 = transforms.ToTensor()(img16)
    assert t16.type() == "torch.ShortTensor"
    np.testing.assert_array_equal(t16.numpy()[0], a16.astype(np.int16))


def test_to_tensor_float_and_bilevel_modes():
    f = np.linspace(-2, 3, 12, dtype=np.float32).reshape(3, 4)
    tf = transforms.ToTensor()(Image.fromarray(f))
    assert tf.type() == "torch.FloatTensor"
    np.testing.assert_array_equal(tf.numpy()[0], f)  # mode F is not rescaled
    bilevel = Image.new("1", (4, 3))
    bilevel.putpixel((1, 2), 1)
    tb = transforms.ToTensor()(bilevel)
    expected = np.zeros((1, 3, 4), np.float32)
    expected[0, 2, 1] = 1.0
    np.testing.assert_array_equal(tb.numpy(), expected)


def test_to_tensor_ndarray_as_the_reference_docs():
    rng = np.random.RandomState(0)
    data = rng.randint(0, 255, size=300)  # the docs' example: an int64 array
    img = data.reshape(10, 10, 3)
    t = transforms.ToTensor()(img)
    assert t.type() == "torch.FloatTensor" and tuple(t.size()) == (3, 10, 10)
    np.testing.assert_allclose(t.numpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)


def test_to_tensor_ndarray_non_contiguous_and_dtypes(small):
    arr = _np(small)
    for view in (arr[::2, 1::3], arr[:, ::-1], np.asfortranarray(arr)):
        t = transforms.ToTensor()(view)
        np.testing.assert_array_equal(t.numpy(), view.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    # 0.1.9 divides every array by 255, whatever its dtype
    f = np.full((2, 3, 1), 51.0)
    np.testing.assert_allclose(transforms.ToTensor()(f).numpy(), np.full((1, 2, 3), 0.2, np.float32))
    # ember extra: a 2-D array is one channel
    g = _np(small.convert("L"))
    assert tuple(transforms.ToTensor()(g).size()) == (1, 32, 32)


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="ToTensor: pic should be a PIL Image or an ndarray, got list"):
        transforms.ToTensor()([1, 2, 3])
    with pytest.raises(ValueError, match=r"ToTensor: an ndarray should be H x W x C, got shape \(2, 2, 2, 2\)"):
        transforms.ToTensor()(np.zeros((2, 2, 2, 2), np.uint8))


# ---------------------------------------------------------------------------------------- ToPILImage
def test_to_pil_image_float_tensor_scales_and_truncates():
    rng = np.random.RandomState(1)
    a = rng.rand(3, 5, 7).astype(np.float32)
    t = ember.from_numpy(a.copy())
    img = transforms.ToPILImage()(t)
    assert img.mode == "RGB" and img.size == (7, 5)
    expected = (a * np.float32(255)).astype(np.uint8).transpose(1, 2, 0)  # mul(255).byte(): truncation
    np.testing.assert_array_equal(_np(img), expected)
    np.testing.assert_array_equal(t.numpy(), a)  # the input is not modified
    # a non-contiguous tensor (a transposed view)
    tt = ember.from_numpy(a.transpose(0, 2, 1).copy()).transpose(1, 2)
    np.testing.assert_array_equal(_np(transforms.ToPILImage()(tt)), expected)


@pytest.mark.parametrize("cls, dtype, mode", [(ember.ByteTensor, np.uint8, "L"), (ember.ShortTensor, np.int16, "I;16"),
                                              (ember.IntTensor, np.int32, "I")])
def test_to_pil_image_one_channel_tensor_types(cls, dtype, mode):
    a = (np.arange(24).reshape(1, 4, 6) * 9).astype(dtype)
    img = transforms.ToPILImage()(cls(a.tolist()))
    assert img.mode == mode and img.size == (6, 4)
    np.testing.assert_array_equal(np.asarray(img).astype(np.int64), a[0].astype(np.int64))


def test_to_pil_image_ndarrays_and_round_trip(small):
    arr = _np(small)
    img = transforms.ToPILImage()(arr)
    assert img.mode == "RGB"
    np.testing.assert_array_equal(_np(img), arr)
    # ToTensor then ToPILImage gives the image back (k/255*255 may land just below k: 0.1.9 truncates)
    back = _np(transforms.ToPILImage()(transforms.ToTensor()(small))).astype(int)
    assert np.all((arr.astype(int) - back >= 0) & (arr.astype(int) - back <= 1))
    f = np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3, 1)
    fimg = transforms.ToPILImage()(f)
    assert fimg.mode == "F"
    np.testing.assert_array_equal(_np(fimg), f[:, :, 0])
    rgba = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert transforms.ToPILImage()(rgba).mode == "RGBA"  # ember extra


def test_to_pil_image_errors():
    with pytest.raises(TypeError, match="ToPILImage: float64 images with 1 channels are not supported"):
        transforms.ToPILImage()(ember.DoubleTensor(1, 2, 2).zero_())  # 0.1.9 scales only FloatTensors
    with pytest.raises(TypeError, match="ToPILImage: pic should be a Tensor or an ndarray, got str"):
        transforms.ToPILImage()("x")
    with pytest.raises(ValueError, match="ToPILImage: a tensor should be C x H x W, got 1x2x3x4"):
        transforms.ToPILImage()(ember.FloatTensor(1, 2, 3, 4))
    with pytest.raises(TypeError, match="ToPILImage: uint8 images with 5 channels are not supported"):
        transforms.ToPILImage()(np.zeros((2, 2, 5), np.uint8))


# ----------------------------------------------------------------------------------------- Normalize
def test_normalize_in_place_per_channel(small):
    t = transforms.ToTensor()(small)
    before = t.numpy().copy()
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = transforms.Normalize(mean, std)(t)
    assert out is t
    expected = (before - np.float32(mean)[:, None, None]) / np.float32(std)[:, None, None]
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_normalize_non_contiguous_double_and_extra_channels():
    rng = np.random.RandomState(2)
    hwc = rng.rand(4, 5, 4)
    base = ember.from_numpy(hwc.copy())
    chw = base.permute(2, 0, 1)  # a view: the writes land in `base`
    transforms.Normalize([0.5, 0.25], [2.0, 0.5])(chw)
    expected = hwc.copy()
    expected[:, :, 0] = (hwc[:, :, 0] - 0.5) / 2.0
    expected[:, :, 1] = (hwc[:, :, 1] - 0.25) / 0.5  # channels past len(mean) are left alone (zip)
    np.testing.assert_allclose(base.numpy(), expected, rtol=1e-12)
    with pytest.raises(TypeError, match="Normalize: expected a tensor"):
        transforms.Normalize([0], [1])(np.zeros((1, 2, 2)))


# ------------------------------------------------------------------------------------ Scale / Resize
def test_scale_reference_docs_example():
    img = Image.new("RGB", (10, 10))
    out = transforms.Scale(12)(img)
    assert out.size == (12, 12)


@pytest.mark.parametrize("size, expected", [(100, (133, 100)), (7, (9, 7)), (374, (498, 374))])
def test_scale_int_sizes_the_smaller_edge(photo, size, expected):
    # 500 x 375: the other edge is floor(size * 500 / 375), as 0.1.9's integer arithmetic
    assert expected == (size * 500 // 375, size)
    out = transforms.Scale(size)(photo)
    assert out.size == expected
    np.testing.assert_array_equal(_np(out), _np(photo.resize(expected, Image.BILINEAR)))


def test_scale_portrait_tuple_interpolation_and_noop(photo):
    portrait = photo.transpose(Image.ROTATE_90)  # 375 x 500
    assert transforms.Scale(30)(portrait).size == (30, 40)
    assert transforms.Scale(375)(photo) is photo  # smaller edge already 375
    out = transforms.Scale((50, 20), interpolation=Image.NEAREST)(photo)  # a sequence is (w, h)
    assert out.size == (50, 20)
    np.testing.assert_array_equal(_np(out), _np(photo.resize((50, 20), Image.NEAREST)))


def test_resize_extra_takes_h_w(photo):
    out = transforms.Resize((50, 20))(photo)
    assert out.size == (20, 50)
    np.testing.assert_array_equal(_np(out), _np(photo.resize((20, 50), Image.BILINEAR)))
    assert transforms.Resize(100)(photo).size == (133, 100)


def test_scale_errors():
    with pytest.raises(TypeError, match="Scale: size should be an int or a sequence"):
        transforms.Scale((1, 2, 3))
    with pytest.raises(TypeError, match="Scale: img should be a PIL Image, got ndarray"):
        transforms.Scale(4)(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(TypeError, match="Resize: size should be an int or a sequence"):
        transforms.Resize("big")


# ---------------------------------------------------------------------------------------- CenterCrop
def test_center_crop_box(photo):
    arr = _np(photo)
    out = transforms.CenterCrop((100, 200))(photo)  # (h, w)
    # x1 = round((500 - 200) / 2) = 150; y1 = round((375 - 100) / 2) = round(137.5) = 138
    assert out.size == (200, 100)
    np.testing.assert_array_equal(_np(out), arr[138:238, 150:350])
    sq = transforms.CenterCrop(10)(photo)
    # x1 = round(245.0) = 245, y1 = round(182.5) = 182 (Python 3 rounds halves to even)
    np.testing.assert_array_equal(_np(sq), arr[182:192, 245:255])
    with pytest.raises(TypeError, match="CenterCrop: size should be an int or a sequence"):
        transforms.CenterCrop("x")


def test_compose_reference_docs_example(photo):
    t = transforms.Compose([transforms.CenterCrop(10), transforms.ToTensor()])(photo)
    assert tuple(t.size()) == (3, 10, 10)
    np.testing.assert_array_equal(t.numpy(), _np(photo)[182:192, 245:255].transpose(2, 0, 1) / np.float32(255))


# ----------------------------------------------------------------------------------------- Pad, Lambda
def test_pad_reference_docs_example_and_fill(small):
    img = Image.new("RGB", (10, 10), (9, 8, 7))
    out = transforms.Pad(padding=10, fill=0)(img)
    assert out.size == (30, 30)
    arr = np.array(out)
    assert (arr[10:20, 10:20] == (9, 8, 7)).all()
    arr[10:20, 10:20] = 0
    assert (arr == 0).all()
    out = transforms.Pad(2, fill=(255, 0, 10))(small)
    arr = _np(out)
    np.testing.assert_array_equal(arr[2:34, 2:34], _np(small))
    assert (arr[:2] == (255, 0, 10)).all() and (arr[:, -2:] == (255, 0, 10)).all()
    gray = transforms.Pad(1, fill=200)(small.convert("L"))
    assert _np(gray)[0, 0] == 200
    with pytest.raises(TypeError, match="Pad: padding should be a number"):
        transforms.Pad((1, 2))
    with pytest.raises(TypeError, match="Pad: fill should be a number, a str or a tuple"):
        transforms.Pad(1, fill=[1, 2, 3])


def test_lambda():
    assert transforms.Lambda(lambda x: x * 3)(4) == 12
    assert transforms.Lambda(abs)(-2) == 2  # ember accepts any callable
    with pytest.raises(TypeError, match="Lambda: lambd should be callable, got int"):
        transforms.Lambda(3)


# -------------------------------------------------------------------------------------- random crops
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_random_crop_uses_python_random(photo, seed):
    arr = _np(photo)
    r = random.Random(seed)
    x1 = r.randint(0, 500 - 40)
    y1 = r.randint(0, 375 - 30)
    random.seed(seed)
    out = transforms.RandomCrop((30, 40))(photo)
    np.testing.assert_array_equal(_np(out), arr[y1:y1 + 30, x1:x1 + 40])


def test_random_crop_padding_and_same_size(small):
    padded = np.pad(_np(small), ((4, 4), (4, 4), (0, 0)))
    r = random.Random(3)
    x1, y1 = r.randint(0, 40 - 32), r.randint(0, 40 - 32)
    random.seed(3)
    out = transforms.RandomCrop(32, padding=4)(small)
    np.testing.assert_array_equal(_np(out), padded[y1:y1 + 32, x1:x1 + 32])
    random.seed(5)
    state = random.getstate()
    assert transforms.RandomCrop(32)(small) is small  # nothing to choose: no random draw
    assert random.getstate() == state
    with pytest.raises(ValueError, match=r"RandomCrop: crop size 40x33 \(h x w\) is larger than the image, 32x32"):
        transforms.RandomCrop((40, 33))(small)


@pytest.mark.parametrize("flip_cls, np_flip", [(transforms.RandomHorizontalFlip, np.fliplr),
                                               (transforms.RandomVerticalFlip, np.flipud)])
def test_random_flips(small, flip_cls, np_flip):
    seen = set()
    for seed in range(8):
        flips = random.Random(seed).random() < 0.5
        random.seed(seed)
        out = flip_cls()(small)
        np.testing.assert_array_equal(_np(out), np_flip(_np(small)) if flips else _np(small))
        seen.add(flips)
    assert seen == {True, False}


def _reference_box(rng, w, h, scale, ratio):
    """0.1.9's RandomSizedCrop sampling written out: (w, h) of the first box that fits, or None."""
    for _ in range(10):
        target = rng.uniform(*scale) * (w * h)
        aspect = rng.uniform(*ratio)
        cw = int(round(math.sqrt(target * aspect)))
        ch = int(round(math.sqrt(target / aspect)))
        if rng.random() < 0.5:
            cw, ch = ch, cw
        if cw <= w and ch <= h:
            return cw, ch
    return None


@pytest.mark.parametrize("seed", [0, 4, 11])
def test_random_sized_crop_algorithm(photo, seed):
    rng = random.Random(seed)
    cw, ch = _reference_box(rng, 500, 375, (0.08, 1.0), (3. / 4, 4. / 3))
    x1 = rng.randint(0, 500 - cw)
    y1 = rng.randint(0, 375 - ch)
    expected = photo.crop((x1, y1, x1 + cw, y1 + ch)).resize((64, 64), Image.BILINEAR)
    random.seed(seed)
    out = transforms.RandomSizedCrop(64)(photo)
    assert out.size == (64, 64)
    np.testing.assert_array_equal(_np(out), _np(expected))


def test_random_sized_crop_fallback_scale_then_center_crop():
    rng = np.random.RandomState(3)
    strip = Image.fromarray(rng.randint(0, 256, (10, 1000, 3)).astype(np.uint8))  # no box fits in 10 tries
    random.seed(0)
    assert _reference_box(random.Random(0), 1000, 10, (0.08, 1.0), (3. / 4, 4. / 3)) is None
    out = transforms.RandomSizedCrop(8)(strip)
    scaled = strip.resize((800, 8), Image.BILINEAR)  # smaller edge 10 -> 8, the other 8 * 1000 // 10
    np.testing.assert_array_equal(_np(out), _np(scaled)[:, 396:404])  # x1 = round((800 - 8) / 2)


@pytest.mark.parametrize("seed", [2, 9])
def test_random_resized_crop_extra(photo, seed):
    rng = random.Random(seed)
    cw, ch = _reference_box(rng, 500, 375, (0.5, 0.9), (0.5, 2.0))
    i = rng.randint(0, 375 - ch)  # torchvision 0.2 draws the top edge first
    j = rng.randint(0, 500 - cw)
    expected = photo.crop((j, i, j + cw, i + ch)).resize((40, 30), Image.BILINEAR)
    random.seed(seed)
    out = transforms.RandomResizedCrop((30, 40), scale=(0.5, 0.9), ratio=(0.5, 2.0))(photo)
    np.testing.assert_array_equal(_np(out), _np(expected))
    # no box fits: the largest centered square
    strip = photo.resize((1000, 10))
    out = transforms.RandomResizedCrop(5)(strip)
    np.testing.assert_array_equal(_np(out), _np(strip.crop((495, 0, 505, 10)).resize((5, 5), Image.BILINEAR)))


# ------------------------------------------------------------------------------- Grayscale, ColorJitter
def test_grayscale_extra(small):
    g = transforms.Grayscale()(small)
    arr = _np(small).astype(np.float64)
    # ITU-R 601-2 luma, as PIL's convert('L') documents
    luma = arr[..., 0] * 299 / 1000 + arr[..., 1] * 587 / 1000 + arr[..., 2] * 114 / 1000
    assert g.mode == "L"
    assert np.abs(_np(g).astype(np.float64) - luma).max() <= 1
    g3 = transforms.Grayscale(num_output_channels=3)(small)
    assert g3.mode == "RGB"
    for c in range(3):
        np.testing.assert_array_equal(_np(g3)[..., c], _np(g))
    with pytest.raises(ValueError, match="Grayscale: num_output_channels should be 1 or 3"):
        transforms.Grayscale(2)


def test_color_jitter_extra(small):
    rng = random.Random(6)
    factor = rng.uniform(0.5, 1.5)
    random.seed(6)
    out = transforms.ColorJitter(brightness=0.5)(small)
    np.testing.assert_array_equal(_np(out), _np(ImageEnhance.Brightness(small).enhance(factor)))
    assert transforms.ColorJitter()(small) is small
    # a half-turn hue shift of pure red gives cyan
    red = Image.new("RGB", (2, 2), (255, 0, 0))
    random.seed(0)
    shifted = _np(transforms.ColorJitter(hue=0.5)(red)).astype(int)
    h = random.Random(0).uniform(-0.5, 0.5)
    assert abs(h) > 0.3  # this seed draws a large shift
    assert shifted[0, 0, 0] < 255 and (shifted[0, 0, 1] > 0 or shifted[0, 0, 2] > 0)
    gray = small.convert("L")
    random.seed(1)
    np.testing.assert_array_equal(_np(transforms.ColorJitter(hue=0.2)(gray)), _np(gray))
    with pytest.raises(ValueError, match="ColorJitter: hue should be a number in"):
        transforms.ColorJitter(hue=0.7)
    with pytest.raises(ValueError, match="ColorJitter: contrast should be a non-negative number"):
        transforms.ColorJitter(contrast=-1)


def test_pipeline_is_repeatable_with_random_seed(photo):
    pipeline = transforms.Compose([transforms.RandomSizedCrop(32), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
    random.seed(42)
    a = pipeline(photo)
    random.seed(42)
    b = pipeline(photo)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert tuple(a.size()) == (3, 32, 32) and -1.0 <= a.min() and a.max() <= 1.0

