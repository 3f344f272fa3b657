"""embervision.utils: make_grid and save_image (torchvision 0.1.9)."""
import builtins
import math

import numpy as np

import ember

__all__ = ["make_grid", "save_image"]


def make_grid(tensor, nrow=8, padding=2, normalize=False, range=None, scale_each=False, pad_value=0):
    """Lay a mini-batch of images out as one image grid.

    tensor: a 4-D mini-batch B x C x H x W, or a list of images of the same size. The grid has
    ``min(nrow, B)`` columns and ``ceil(B / columns)`` rows, each cell ``padding`` pixels apart, and the
    shape ``(3, (H + padding) * rows + 1 + padding // 2, (W + padding) * columns + 1 + padding // 2)``
    filled with ``pad_value`` around the images. Single-channel images are repeated to 3 channels. As in
    0.1.9, a single image (2-D or 3-D) comes back as a 3-channel image, unnormalized.

    normalize=True shifts the values to (0, 1) using ``range=(min, max)`` if given, else the tensor's
    min and max (each image's own with ``scale_each=True``); the input is not modified.
    ember extra: images with other channel counts than 1 or 3 give a grid with that many channels."""
    if isinstance(tensor, (list, tuple)):
        if not tensor or not all(ember.is_tensor(t) for t in tensor):
            raise TypeError("make_grid: expected a tensor or a non-empty list of tensors")
        size = tensor[0].size()
        for i, t in enumerate(tensor):
            if t.size() != size:
                raise ValueError("make_grid: every image must have the size of the first, {}, but image {} "
                                 "has {}".format(_fmt(size), i, _fmt(t.size())))
        tensor = ember.stack(list(tensor), 0)
    if not ember.is_tensor(tensor):
        raise TypeError("make_grid: expected a tensor or a list of tensors, got {}".format(type(tensor).__name__))
    if tensor.dim() == 2:  # single image H x W
        tensor = tensor.view(1, tensor.size(0), tensor.size(1))
    if tensor.dim() == 3:  # single image
        if tensor.size(0) == 1:  # if single-channel, convert to 3-channel
            tensor = ember.cat((tensor, tensor, tensor), 0)
        return tensor
    if tensor.dim() != 4:
        raise ValueError("make_grid: expected a 4-D mini-batch B x C x H x W (or a 2-D / 3-D image), got a "
                         "tensor of size {}".format(_fmt(tensor.size())))
    if tensor.size(1) == 1:  # single-channel images
        tensor = ember.cat((tensor, tensor, tensor), 1)

    if normalize is True:
        tensor = tensor.clone()  # avoid modifying tensor in-place
        if range is not None and not isinstance(range, tuple):
            raise TypeError("make_grid: range has to be a tuple (min, max) if specified. min and max are numbers")

        def norm_ip(img, lo, hi):
            img.clamp_(min=lo, max=hi)
            img.add_(-lo)
            if hi != lo:  # a constant image stays 0 instead of becoming NaN
                img.div_(hi - lo)

        def norm_range(t):
            if range is not None:
                norm_ip(t, range[0], range[1])
            else:
                norm_ip(t, t.min(), t.max())

        if scale_each is True:
            for t in tensor:  # loop over mini-batch dimension
                norm_range(t)
        else:
            norm_range(tensor)

    # make the mini-batch of images into a grid
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    channels = 3 if tensor.size(1) == 3 else tensor.size(1)
    grid = tensor.new(channels, height * ymaps + 1 + padding // 2, width * xmaps + 1 + padding // 2).fill_(pad_value)
    for k in builtins.range(nmaps):
        y, x = divmod(k, xmaps)
        grid.narrow(1, y * height + 1 + padding // 2, height - padding) \
            .narrow(2, x * width + 1 + padding // 2, width - padding) \
            .copy_(tensor[k])
    return grid


def save_image(tensor, filename, nrow=8, padding=2, normalize=False, range=None, scale_each=False, pad_value=0):
    """Save a tensor (or a mini-batch / list of images, laid out by make_grid) as an image file.

    Values are multiplied by 255, clamped to [0, 255] and truncated to bytes as in 0.1.9. The format
    follows the file name's extension (PNG when it has none that Pillow knows); ``filename`` may also be
    a writable binary file object (then PNG)."""
    from PIL import Image
    if isinstance(tensor, (list, tuple)):
        tensor = [t.cpu() for t in tensor]
    elif ember.is_tensor(tensor):
        tensor = tensor.cpu()
    grid = make_grid(tensor, nrow=nrow, padding=padding, pad_value=pad_value, normalize=normalize, range=range,
                     scale_each=scale_each)
    ndarr = grid.mul(255).clamp(0, 255).byte().permute(1, 2, 0).numpy()
    if ndarr.shape[2] == 1:
        ndarr = ndarr[:, :, 0]
    im = Image.fromarray(np.ascontiguousarray(ndarr))
    fmt = None
    if not isinstance(filename, (str, bytes)) and not hasattr(filename, "__fspath__"):
        fmt = "PNG"
    else:
        ext = str(filename).rpartition(".")[2].lower() if "." in str(filename) else ""
        if "." + ext not in Image.registered_extensions():
            fmt = "PNG"
    im.save(filename, format=fmt)


def _fmt(size):
    return "x".join(str(s) for s in size) or "(empty)"
