"""embervision.transforms: torchvision 0.1.9's image transforms, plus later ones as ember extras.

0.1.9's set: Compose, ToTensor, ToPILImage, Normalize, Scale, CenterCrop, Pad, Lambda, RandomCrop,
RandomHorizontalFlip, RandomSizedCrop. Geometric transforms work on PIL Images; ToTensor / ToPILImage
also take HxWxC NumPy arrays. Randomness comes from Python's ``random`` module, as in 0.1.9, so
``random.seed`` makes a pipeline repeatable.

ember extras (from later torchvision): Resize (a sequence size is (h, w)), RandomResizedCrop,
RandomVerticalFlip, Grayscale, ColorJitter. Bad arguments raise TypeError / ValueError naming the
transform where 0.1.9 used bare asserts.
"""
import math
import numbers
import random

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

import ember

try:
    import accimage
except ImportError:
    accimage = None

__all__ = ["Compose", "ToTensor", "ToPILImage", "Normalize", "Scale", "CenterCrop", "Pad", "Lambda",
           "RandomCrop", "RandomHorizontalFlip", "RandomSizedCrop",
           "Resize", "RandomResizedCrop", "RandomVerticalFlip", "Grayscale", "ColorJitter"]


_BYTE_MODES = frozenset(["L", "P", "LA", "PA", "RGB", "RGBA", "RGBX", "CMYK", "La", "RGBa"])


def _check_pil(img, name):
    if not isinstance(img, Image.Image):
        raise TypeError("{}: img should be a PIL Image, got {}".format(name, type(img).__name__))


def _pair(size, name):
    """An int size -> (size, size); a sequence of two ints -> itself as a tuple (h, w)."""
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    try:
        h, w = size
    except (TypeError, ValueError):
        raise TypeError("{}: size should be an int or a sequence (h, w), got {!r}".format(name, size)) from None
    return int(h), int(w)


def _smaller_edge(img, size, interpolation):
    """Resize so the smaller edge is ``size``, keeping the aspect ratio (integer floor for the other edge)."""
    w, h = img.size
    if (w <= h and w == size) or (h <= w and h == size):
        return img
    if w < h:
        return img.resize((size, size * h // w), interpolation)
    return img.resize((size * w // h, size), interpolation)


class Compose(object):
    """Composes several transforms together.

    Example:
        >>> transforms.Compose([
        >>>     transforms.CenterCrop(10),
        >>>     transforms.ToTensor(),
        >>> ])
    """

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img


class ToTensor(object):
    """A PIL Image or an ``numpy.ndarray`` (H x W x C) in [0, 255] to a FloatTensor C x H x W in [0, 1].

    As 0.1.9: arrays of any dtype are converted to float and divided by 255; PIL modes 'I' and 'I;16'
    stay IntTensor / ShortTensor. ember extras: 2-D arrays (one channel), mode '1' (0 or 1) and mode 'F'
    (FloatTensor, unscaled)."""

    def __call__(self, pic):
        if isinstance(pic, np.ndarray):
            if pic.ndim == 2:
                pic = pic[:, :, None]
            if pic.ndim != 3:
                raise ValueError("ToTensor: an ndarray should be H x W x C, got shape {}".format(pic.shape))
            out = np.ascontiguousarray(pic.transpose((2, 0, 1)), dtype=np.float32)
            np.divide(out, np.float32(255), out=out)
            return ember.from_numpy(out)
        if accimage is not None and isinstance(pic, accimage.Image):
            nppic = np.zeros([pic.channels, pic.height, pic.width], dtype=np.float32)
            pic.copyto(nppic)
            return ember.from_numpy(nppic)
        if not isinstance(pic, Image.Image):
            raise TypeError("ToTensor: pic should be a PIL Image or an ndarray, got {}".format(type(pic).__name__))
        mode = pic.mode
        if mode == "I":
            arr = np.asarray(pic, dtype=np.int32)
        elif mode == "I;16":
            arr = np.asarray(pic).astype(np.int16)  # as 0.1.9: 16-bit values land in a ShortTensor
        elif mode == "F":
            arr = np.asarray(pic, dtype=np.float32)
        elif mode == "1":
            arr = np.asarray(pic, dtype=np.uint8)
        elif mode in _BYTE_MODES:
            # the raw bytes, as 0.1.9 read them (faster than the array interface for small images)
            arr = np.frombuffer(pic.tobytes(), dtype=np.uint8).reshape(pic.size[1], pic.size[0], len(mode))
        else:
            arr = np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        chw = arr.transpose((2, 0, 1))
        if arr.dtype == np.uint8:
            out = np.ascontiguousarray(chw, dtype=np.float32)
            if mode != "1":
                np.divide(out, np.float32(255), out=out)
            return ember.from_numpy(out)
        return ember.from_numpy(np.ascontiguousarray(chw))


class ToPILImage(object):
    """A tensor C x H x W or an ndarray H x W x C to a PIL Image.

    A FloatTensor is multiplied by 255 and cast to bytes. One channel: uint8 -> 'L', int16 -> 'I;16',
    int32 -> 'I', float32 -> 'F'; three uint8 channels -> 'RGB'. ember extras: four uint8 channels ->
    'RGBA', 2-D tensors / arrays as one channel."""

    def __call__(self, pic):
        npimg = pic
        if ember.is_tensor(pic):
            if pic.dim() == 2:
                pic = pic.unsqueeze(0)
            if pic.dim() != 3:
                raise ValueError("ToPILImage: a tensor should be C x H x W, got {}".format(
                    "x".join(str(s) for s in pic.size()) or "an empty tensor"))
            if isinstance(pic, ember.FloatTensor):
                pic = pic.mul(255).byte()
            npimg = np.transpose(pic.cpu().numpy(), (1, 2, 0))
        if not isinstance(npimg, np.ndarray):
            raise TypeError("ToPILImage: pic should be a Tensor or an ndarray, got {}".format(type(pic).__name__))
        if npimg.ndim == 2:
            npimg = npimg[:, :, None]
        mode = None
        if npimg.ndim == 3 and npimg.shape[2] == 1:
            npimg = npimg[:, :, 0]
            mode = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.int32): "I",
                    np.dtype(np.float32): "F"}.get(npimg.dtype)
        elif npimg.ndim == 3 and npimg.dtype == np.uint8:
            mode = {3: "RGB", 4: "RGBA"}.get(npimg.shape[2])
        if mode is None:
            raise TypeError("ToPILImage: {} images with {} channels are not supported".format(
                npimg.dtype, npimg.shape[2] if npimg.ndim == 3 else 1))
        if mode == "I;16":
            return Image.frombuffer("I;16", (npimg.shape[1], npimg.shape[0]),
                                    np.ascontiguousarray(npimg, dtype="<u2").tobytes(), "raw", "I;16", 0, 1)
        return Image.fromarray(np.ascontiguousarray(npimg))


class Normalize(object):
    """In place, per channel: ``tensor[c] = (tensor[c] - mean[c]) / std[c]``; returns the same tensor."""

    def __init__(self, mean, std):
        self.mean = mean
        self.std = std

    def __call__(self, tensor):
        if not ember.is_tensor(tensor):
            raise TypeError("Normalize: expected a tensor C x H x W, got {}".format(type(tensor).__name__))
        if isinstance(tensor, (ember.FloatTensor, ember.DoubleTensor)) and tensor.dim() >= 2:
            # CPU fast path on the tensor's memory; the scalars are cast to its dtype as sub_/div_ would
            arr = tensor.numpy()
            dtype = arr.dtype.type
            with np.errstate(all="ignore"):  # inf / nan propagate silently, as in the tensor ops
                for c, m, s in zip(range(arr.shape[0]), self.mean, self.std):
                    channel = arr[c]
                    channel -= dtype(m)
                    channel /= dtype(s)
            return tensor
        for t, m, s in zip(tensor, self.mean, self.std):
            t.sub_(m).div_(s)
        return tensor


class Scale(object):
    """Resize a PIL Image.

    size: an int makes the smaller edge ``size`` (the other ``int(size * long / short)``, an image whose
    smaller edge already has that size is returned as is); a sequence is passed to PIL as (w, h).
    interpolation: default PIL.Image.BILINEAR."""

    def __init__(self, size, interpolation=Image.BILINEAR):
        if not (isinstance(size, int) or (isinstance(size, (tuple, list)) and len(size) == 2)):
            raise TypeError("Scale: size should be an int or a sequence (w, h), got {!r}".format(size))
        self.size = size
        self.interpolation = interpolation

    def __call__(self, img):
        _check_pil(img, "Scale")
        if isinstance(self.size, int):
            return _smaller_edge(img, self.size, self.interpolation)
        return img.resize(tuple(self.size), self.interpolation)


class Resize(object):
    """Resize a PIL Image (an ember extra, torchvision 0.2's Resize): an int sizes the smaller edge as
    Scale does; a sequence is (h, w)."""

    def __init__(self, size, interpolation=Image.BILINEAR):
        if not (isinstance(size, int) or (isinstance(size, (tuple, list)) and len(size) == 2)):
            raise TypeError("Resize: size should be an int or a sequence (h, w), got {!r}".format(size))
        self.size = size
        self.interpolation = interpolation

    def __call__(self, img):
        _check_pil(img, "Resize")
        if isinstance(self.size, int):
            return _smaller_edge(img, self.size, self.interpolation)
        h, w = self.size
        return img.resize((w, h), self.interpolation)


class CenterCrop(object):
    """Crop the center of a PIL Image to ``size`` (an int for a square, or (h, w))."""

    def __init__(self, size):
        self.size = _pair(size, "CenterCrop")

    def __call__(self, img):
        _check_pil(img, "CenterCrop")
        w, h = img.size
        th, tw = self.size
        x1 = int(round((w - tw) / 2.))
        y1 = int(round((h - th) / 2.))
        return img.crop((x1, y1, x1 + tw, y1 + th))


class Pad(object):
    """Pad every side of a PIL Image by ``padding`` pixels of ``fill`` (a number, a color name or a tuple)."""

    def __init__(self, padding, fill=0):
        if not isinstance(padding, numbers.Number):
            raise TypeError("Pad: padding should be a number, got {!r}".format(padding))
        if not isinstance(fill, (numbers.Number, str, tuple)):
            raise TypeError("Pad: fill should be a number, a str or a tuple, got {!r}".format(fill))
        self.padding = padding
        self.fill = fill

    def __call__(self, img):
        _check_pil(img, "Pad")
        return ImageOps.expand(img, border=self.padding, fill=self.fill)


class Lambda(object):
    """Apply a user-defined function as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError("Lambda: lambd should be callable, got {}".format(type(lambd).__name__))
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


class RandomCrop(object):
    """Crop a PIL Image at a random location to ``size`` (an int for a square, or (h, w)), after padding
    every side with ``padding`` zeros when it is positive."""

    def __init__(self, size, padding=0):
        self.size = _pair(size, "RandomCrop")
        self.padding = padding

    def __call__(self, img):
        _check_pil(img, "RandomCrop")
        if self.padding > 0:
            img = ImageOps.expand(img, border=self.padding, fill=0)
        w, h = img.size
        th, tw = self.size
        if w == tw and h == th:
            return img
        if tw > w or th > h:
            raise ValueError("RandomCrop: crop size {}x{} (h x w) is larger than the image, {}x{}".format(th, tw, h, w))
        x1 = random.randint(0, w - tw)
        y1 = random.randint(0, h - th)
        return img.crop((x1, y1, x1 + tw, y1 + th))


class RandomHorizontalFlip(object):
    """Flip a PIL Image left-right with probability 0.5."""

    def __call__(self, img):
        _check_pil(img, "RandomHorizontalFlip")
        if random.random() < 0.5:
            return img.transpose(Image.FLIP_LEFT_RIGHT)
        return img


class RandomVerticalFlip(object):
    """Flip a PIL Image top-bottom with probability 0.5 (an ember extra)."""

    def __call__(self, img):
        _check_pil(img, "RandomVerticalFlip")
        if random.random() < 0.5:
            return img.transpose(Image.FLIP_TOP_BOTTOM)
        return img


def _random_area_box(img, scale, ratio):
    """Up to 10 tries at a box of area U(scale) * area and aspect U(ratio), sides swapped half the time:
    (w, h) of a box that fits, or None."""
    for _ in range(10):
        area = img.size[0] * img.size[1]
        target_area = random.uniform(*scale) * area
        aspect_ratio = random.uniform(*ratio)
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if random.random() < 0.5:
            w, h = h, w
        if w <= img.size[0] and h <= img.size[1]:
            return w, h
    return None


class RandomSizedCrop(object):
    """Crop a random part of a PIL Image and resize it to ``size`` x ``size`` (0.1.9's algorithm).

    Up to 10 tries: area U(0.08, 1.0) of the original, aspect ratio U(3/4, 4/3), width and height swapped
    with probability 0.5; the first box that fits is placed uniformly. If none fits: Scale(size) then
    CenterCrop(size)."""

    def __init__(self, size, interpolation=Image.BILINEAR):
        self.size = size
        self.interpolation = interpolation

    def __call__(self, img):
        _check_pil(img, "RandomSizedCrop")
        box = _random_area_box(img, (0.08, 1.0), (3. / 4, 4. / 3))
        if box is not None:
            w, h = box
            x1 = random.randint(0, img.size[0] - w)
            y1 = random.randint(0, img.size[1] - h)
            img = img.crop((x1, y1, x1 + w, y1 + h))
            return img.resize((self.size, self.size), self.interpolation)
        # Fallback
        scale = Scale(self.size, interpolation=self.interpolation)
        crop = CenterCrop(self.size)
        return crop(scale(img))


class RandomResizedCrop(object):
    """Crop a random part of a PIL Image and resize it to ``size`` (an ember extra, torchvision 0.2's).

    size: an int or (h, w); scale: the range of the crop's area as a fraction of the image's; ratio: the
    range of its aspect ratio. The box is drawn as RandomSizedCrop's (top edge first); if no box fits
    in 10 tries, the largest centered square is used."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3. / 4., 4. / 3.), interpolation=Image.BILINEAR):
        self.size = _pair(size, "RandomResizedCrop")
        self.scale = scale
        self.ratio = ratio
        self.interpolation = interpolation

    def __call__(self, img):
        _check_pil(img, "RandomResizedCrop")
        box = _random_area_box(img, self.scale, self.ratio)
        if box is not None:
            w, h = box
            i = random.randint(0, img.size[1] - h)
            j = random.randint(0, img.size[0] - w)
        else:
            w = h = min(img.size)
            i = (img.size[1] - h) // 2
            j = (img.size[0] - w) // 2
        img = img.crop((j, i, j + w, i + h))
        return img.resize((self.size[1], self.size[0]), self.interpolation)


class Grayscale(object):
    """Convert a PIL Image to grayscale (an ember extra): mode 'L', or 'RGB' with three equal channels
    when ``num_output_channels`` is 3."""

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise ValueError("Grayscale: num_output_channels should be 1 or 3, got {!r}".format(num_output_channels))
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        _check_pil(img, "Grayscale")
        img = img.convert("L")
        if self.num_output_channels == 3:
            img = Image.merge("RGB", [img, img, img])
        return img


class ColorJitter(object):
    """Randomly change the brightness, contrast, saturation and hue of a PIL Image (an ember extra).

    brightness, contrast, saturation (>= 0): the factor is drawn from U(max(0, 1 - x), 1 + x);
    hue (0 <= hue <= 0.5): a shift of U(-hue, hue) of the hue circle. The adjustments are applied in a
    random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        for name, v in (("brightness", brightness), ("contrast", contrast), ("saturation", saturation)):
            if not isinstance(v, numbers.Number) or v < 0:
                raise ValueError("ColorJitter: {} should be a non-negative number, got {!r}".format(name, v))
        if not isinstance(hue, numbers.Number) or not 0 <= hue <= 0.5:
            raise ValueError("ColorJitter: hue should be a number in [0, 0.5], got {!r}".format(hue))
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """The adjustments as a list of functions img -> img, in the (random) order they apply."""
        ops = []
        if brightness > 0:
            f = random.uniform(max(0, 1 - brightness), 1 + brightness)
            ops.append(lambda img: ImageEnhance.Brightness(img).enhance(f))
        if contrast > 0:
            c = random.uniform(max(0, 1 - contrast), 1 + contrast)
            ops.append(lambda img: ImageEnhance.Contrast(img).enhance(c))
        if saturation > 0:
            s = random.uniform(max(0, 1 - saturation), 1 + saturation)
            ops.append(lambda img: ImageEnhance.Color(img).enhance(s))
        if hue > 0:
            h = random.uniform(-hue, hue)
            ops.append(lambda img: _adjust_hue(img, h))
        random.shuffle(ops)
        return ops

    def __call__(self, img):
        _check_pil(img, "ColorJitter")
        for op in self.get_params(self.brightness, self.contrast, self.saturation, self.hue):
            img = op(img)
        return img


def _adjust_hue(img, hue_factor):
    """Rotate the hue channel by ``hue_factor`` of a full turn (uint8 arithmetic wraps around)."""
    mode = img.mode
    if mode in ("L", "1", "I", "F"):
        return img
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    with np.errstate(over="ignore"):
        np_h += np.uint8(int(round(hue_factor * 255)) % 256)
    h = Image.fromarray(np_h)
    return Image.merge("HSV", (h, s, v)).convert(mode)
