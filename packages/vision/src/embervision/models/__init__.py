"""embervision.models: the model definitions of torchvision 0.1.9.

Every constructor takes ``pretrained=False`` (True loads the ImageNet weights of 0.1.9's model zoo through
``ember.utils.model_zoo.load_url``, cached under ``~/.torch/models``) and forwards its other keyword
arguments to the model class (e.g. ``num_classes``).
"""
from .alexnet import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from .squeezenet import *  # noqa: F401,F403
from .inception import *  # noqa: F401,F403
from .densenet import *  # noqa: F401,F403
