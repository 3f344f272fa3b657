"""Densely connected networks ("Densely Connected Convolutional Networks"), as torchvision 0.1.9.

The layers inside a dense layer are named ``norm.1``, ``relu.1``, ``conv.1``, ``norm.2``, ... (with a
dot) as in 0.1.9, so that 0.1.9's checkpoints load: their state_dict keys read
``features.denseblock1.denselayer1.norm.1.weight``.
"""
from collections import OrderedDict

import ember
import ember.nn as nn
import ember.nn.functional as F

from ._utils import load_pretrained

__all__ = ["DenseNet", "densenet121", "densenet169", "densenet201", "densenet161"]

model_urls = {
    "densenet121": "https://download.pytorch.org/models/densenet121-241335ed.pth",
    "densenet169": "https://download.pytorch.org/models/densenet169-6f0f7f60.pth",
    "densenet201": "https://download.pytorch.org/models/densenet201-4c113574.pth",
    "densenet161": "https://download.pytorch.org/models/densenet161-17b70270.pth",
}


class _DenseLayer(nn.Sequential):
    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate):
        super(_DenseLayer, self).__init__()
        self.add_module("norm.1", nn.BatchNorm2d(num_input_features))
        self.add_module("relu.1", nn.ReLU(inplace=True))
        self.add_module("conv.1", nn.Conv2d(num_input_features, bn_size * growth_rate,
                                            kernel_size=1, stride=1, bias=False))
        self.add_module("norm.2", nn.BatchNorm2d(bn_size * growth_rate))
        self.add_module("relu.2", nn.ReLU(inplace=True))
        self.add_module("conv.2", nn.Conv2d(bn_size * growth_rate, growth_rate,
                                            kernel_size=3, stride=1, padding=1, bias=False))
        self.drop_rate = drop_rate

    def forward(self, x):
        new_features = super(_DenseLayer, self).forward(x)
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return ember.cat([x, new_features], 1)


class _DenseBlock(nn.Sequential):
    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate):
        super(_DenseBlock, self).__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size, drop_rate)
            self.add_module("denselayer%d" % (i + 1), layer)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features, num_output_features):
        super(_Transition, self).__init__()
        self.add_module("norm", nn.BatchNorm2d(num_input_features))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv2d(num_input_features, num_output_features,
                                          kernel_size=1, stride=1, bias=False))
        self.add_module("pool", nn.AvgPool2d(kernel_size=2, stride=2))


class DenseNet(nn.Module):
    """Densenet-BC model class.

    Args:
        growth_rate (int): how many filters to add each layer (`k` in the paper)
        block_config (list of 4 ints): how many layers in each pooling block
        num_init_features (int): the number of filters to learn in the first convolution layer
        bn_size (int): multiplicative factor for number of bottle neck layers
            (i.e. bn_size * k features in the bottleneck layer)
        drop_rate (float): dropout rate after each dense layer
        num_classes (int): number of classification classes

    Expects 224x224 inputs: the head average-pools 7x7 maps. The layers keep the default initialisation of
    ember.nn, as in 0.1.9.
    """

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, bn_size=4,
                 drop_rate=0, num_classes=1000):
        super(DenseNet, self).__init__()

        # first convolution
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))

        # each dense block, with a transition halving the features between two blocks
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers=num_layers, num_input_features=num_features, bn_size=bn_size,
                                growth_rate=growth_rate, drop_rate=drop_rate)
            self.features.add_module("denseblock%d" % (i + 1), block)
            num_features = num_features + num_layers * growth_rate
            if i != len(block_config) - 1:
                trans = _Transition(num_input_features=num_features, num_output_features=num_features // 2)
                self.features.add_module("transition%d" % (i + 1), trans)
                num_features = num_features // 2

        # final batch norm
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))

        # linear layer
        self.classifier = nn.Linear(num_features, num_classes)

    def forward(self, x):
        features = self.features(x)
        out = F.relu(features, inplace=True)
        out = F.avg_pool2d(out, kernel_size=7).view(features.size(0), -1)
        out = self.classifier(out)
        return out


def _densenet(name, num_init_features, growth_rate, block_config, pretrained, kwargs):
    model = DenseNet(num_init_features=num_init_features, growth_rate=growth_rate, block_config=block_config,
                     **kwargs)
    if pretrained:
        load_pretrained(model, model_urls[name], name)
    return model


def densenet121(pretrained=False, **kwargs):
    """Densenet-121; ``pretrained=True`` loads the ImageNet weights of torchvision 0.1.9's model zoo."""
    return _densenet("densenet121", 64, 32, (6, 12, 24, 16), pretrained, kwargs)


def densenet169(pretrained=False, **kwargs):
    """Densenet-169; ``pretrained=True`` loads the ImageNet weights of torchvision 0.1.9's model zoo."""
    return _densenet("densenet169", 64, 32, (6, 12, 32, 32), pretrained, kwargs)


def densenet201(pretrained=False, **kwargs):
    """Densenet-201; ``pretrained=True`` loads the ImageNet weights of torchvision 0.1.9's model zoo."""
    return _densenet("densenet201", 64, 32, (6, 12, 48, 32), pretrained, kwargs)


def densenet161(pretrained=False, **kwargs):
    """Densenet-161; ``pretrained=True`` loads the ImageNet weights of torchvision 0.1.9's model zoo."""
    return _densenet("densenet161", 96, 48, (6, 12, 36, 24), pretrained, kwargs)
