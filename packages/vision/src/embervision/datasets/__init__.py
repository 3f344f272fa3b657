"""embervision.datasets: torchvision 0.1.9's datasets (FashionMNIST is an ember extra)."""
from .cifar import CIFAR10, CIFAR100
from .coco import CocoCaptions, CocoDetection
from .fakedata import FakeData
from .folder import ImageFolder
from .lsun import LSUN, LSUNClass
from .mnist import MNIST, FashionMNIST
from .phototour import PhotoTour
from .stl10 import STL10
from .svhn import SVHN

__all__ = ("LSUN", "LSUNClass",
           "ImageFolder", "FakeData",
           "CocoCaptions", "CocoDetection",
           "CIFAR10", "CIFAR100", "FashionMNIST",
           "MNIST", "STL10", "SVHN", "PhotoTour")
