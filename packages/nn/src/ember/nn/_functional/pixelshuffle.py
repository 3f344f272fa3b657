"""Sub-pixel shuffle (PyTorch 0.2's F.pixel_shuffle): a view and a permutation of Variables."""
from .activation import size_of

__all__ = ["pixel_shuffle"]


def pixel_shuffle(input, upscale_factor):
    """Rearrange (N, C * r^2, H, W) into (N, C, H * r, W * r) for r = ``upscale_factor``."""
    r = upscale_factor
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise ValueError("pixel_shuffle(): upscale_factor must be a positive int, got {!r}".format(r))
    if input.dim() != 4:
        raise RuntimeError("pixel_shuffle(): expected a 4D input (N x C*r^2 x H x W), got size {}"
                           .format(size_of(input)))
    batch_size, channels, in_height, in_width = input.size()
    if channels % (r * r):
        raise RuntimeError("pixel_shuffle(): the number of input channels ({}) must be divisible by upscale_factor^2 "
                           "({}), got input of size {}".format(channels, r * r, size_of(input)))
    channels //= r * r
    input_view = input.contiguous().view(batch_size, channels, r, r, in_height, in_width)
    shuffle_out = input_view.permute(0, 1, 4, 2, 5, 3).contiguous()
    return shuffle_out.view(batch_size, channels, in_height * r, in_width * r)
