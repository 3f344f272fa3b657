"""FakeData (torchvision 0.1.9): random images that are the same for the same index."""
import ember
from ember.utils import data

from .. import transforms


class FakeData(data.Dataset):
    """Items are ``(PIL Image, float target)``: image ``i`` is ``ToPILImage()(randn(*image_size))`` drawn
    after ``ember.manual_seed(i)``, the target ``Tensor(1).random_(0, num_classes)[0]``; the global
    random state is restored afterwards."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None):
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.transform = transform
        self.target_transform = target_transform

    def __getitem__(self, index):
        if not -self.size <= index < self.size:
            raise IndexError("FakeData: index {} out of range for {} images".format(index, self.size))
        index %= self.size
        # create a random image that is consistent with the index id
        rng_state = ember.get_rng_state()
        try:
            ember.manual_seed(index)
            img = ember.randn(*self.image_size)
            target = ember.Tensor(1).random_(0, self.num_classes)[0]
        finally:
            ember.set_rng_state(rng_state)
        img = transforms.ToPILImage()(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return self.size
