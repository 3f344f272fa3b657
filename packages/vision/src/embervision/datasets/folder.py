"""ImageFolder (torchvision 0.1.9): images arranged as ``root/<class>/<...>/<image>``."""
import os

from PIL import Image

from ember.utils import data

IMG_EXTENSIONS = [
    ".jpg", ".JPG", ".jpeg", ".JPEG",
    ".png", ".PNG", ".ppm", ".PPM", ".bmp", ".BMP",
]


def is_image_file(filename, extensions=None):
    """Whether ``filename`` ends with one of ``extensions`` (default IMG_EXTENSIONS; case-sensitive as 0.1.9)."""
    return filename.endswith(tuple(IMG_EXTENSIONS if extensions is None else extensions))


def find_classes(dir):
    """The sorted sub-folder names of ``dir`` and the map from each to its index."""
    classes = sorted(d for d in os.listdir(dir) if os.path.isdir(os.path.join(dir, d)))
    class_to_idx = {classes[i]: i for i in range(len(classes))}
    return classes, class_to_idx


def make_dataset(dir, class_to_idx, extensions=None):
    """``(path, class index)`` for every image file under each class folder, walked in sorted order."""
    images = []
    dir = os.path.expanduser(dir)
    for target in sorted(os.listdir(dir)):
        d = os.path.join(dir, target)
        if not os.path.isdir(d) or target not in class_to_idx:
            continue
        for root, _, fnames in sorted(os.walk(d)):
            for fname in sorted(fnames):
                if is_image_file(fname, extensions):
                    images.append((os.path.join(root, fname), class_to_idx[target]))
    return images


def pil_loader(path):
    # open the file ourselves so it is closed at once (PIL keeps it open lazily otherwise)
    with open(path, "rb") as f:
        with Image.open(f) as img:
            return img.convert("RGB")


def accimage_loader(path):
    import accimage
    try:
        return accimage.Image(path)
    except IOError:
        # potentially a decoding problem, fall back to PIL.Image
        return pil_loader(path)


def default_loader(path):
    from embervision import get_image_backend
    if get_image_backend() == "accimage":
        return accimage_loader(path)
    return pil_loader(path)


class ImageFolder(data.Dataset):
    """A generic data loader where the images are arranged in this way::

        root/dog/xxx.png
        root/dog/xxy.png
        root/cat/123.png

    Items are ``(loader(path), class index)``. Attributes: ``classes`` (sorted class folder names),
    ``class_to_idx`` (name -> index), ``imgs`` (list of ``(path, class index)``).
    ``extensions`` (an ember extra) replaces IMG_EXTENSIONS as the file-name filter."""

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader, extensions=None):
        if not os.path.isdir(os.path.expanduser(root)):
            raise RuntimeError("ImageFolder: root folder not found: {}".format(root))
        classes, class_to_idx = find_classes(os.path.expanduser(root))
        imgs = make_dataset(root, class_to_idx, extensions)
        if len(imgs) == 0:
            raise RuntimeError("Found 0 images in subfolders of: " + root + "\n"
                               "Supported image extensions are: " +
                               ",".join(IMG_EXTENSIONS if extensions is None else extensions))
        self.root = root
        self.imgs = imgs
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.transform = transform
        self.target_transform = target_transform
        self.loader = loader

    def __getitem__(self, index):
        path, target = self.imgs[index]
        img = self.loader(path)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.imgs)
