"""VGG ("Very Deep Convolutional Networks for Large-Scale Image Recognition"), as torchvision 0.1.9."""
import math

import ember.nn as nn

from ._utils import load_pretrained

__all__ = ["VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19_bn", "vgg19"]

model_urls = {
    "vgg11": "https://download.pytorch.org/models/vgg11-bbd30ac9.pth",
    "vgg13": "https://download.pytorch.org/models/vgg13-c768596a.pth",
    "vgg16": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "vgg19": "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
    "vgg11_bn": "https://download.pytorch.org/models/vgg11_bn-6002323d.pth",
    "vgg13_bn": "https://download.pytorch.org/models/vgg13_bn-abd245e5.pth",
    "vgg16_bn": "https://download.pytorch.org/models/vgg16_bn-6c64b313.pth",
    "vgg19_bn": "https://download.pytorch.org/models/vgg19_bn-c79401a0.pth",
}


class VGG(nn.Module):
    """``features`` must produce 512 x 7 x 7 maps (224x224 inputs for the standard configurations)."""

    def __init__(self, features, num_classes=1000):
        super(VGG, self).__init__()
        self.features = features
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(4096, num_classes),
        )
        self._initialize_weights()

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        x = self.classifier(x)
        return x

    def _initialize_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2. / n))
                if m.bias is not None:
                    m.bias.data.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                m.weight.data.normal_(0, 0.01)
                m.bias.data.zero_()


def make_layers(cfg, batch_norm=False):
    """The feature extractor for ``cfg``: a list of conv widths (3x3, padding 1, each followed by ReLU,
    with BatchNorm2d in between when ``batch_norm``) and ``'M'`` for a 2x2 max pool."""
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


cfg = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def _vgg(name, key, batch_norm, pretrained, kwargs):
    model = VGG(make_layers(cfg[key], batch_norm=batch_norm), **kwargs)
    if pretrained:
        load_pretrained(model, model_urls[name], name)
    return model


def vgg11(pretrained=False, **kwargs):
    """VGG 11-layer model (configuration "A")"""
    return _vgg("vgg11", "A", False, pretrained, kwargs)


def vgg11_bn(pretrained=False, **kwargs):
    """VGG 11-layer model (configuration "A") with batch normalization"""
    return _vgg("vgg11_bn", "A", True, pretrained, kwargs)


def vgg13(pretrained=False, **kwargs):
    """VGG 13-layer model (configuration "B")"""
    return _vgg("vgg13", "B", False, pretrained, kwargs)


def vgg13_bn(pretrained=False, **kwargs):
    """VGG 13-layer model (configuration "B") with batch normalization"""
    return _vgg("vgg13_bn", "B", True, pretrained, kwargs)


def vgg16(pretrained=False, **kwargs):
    """VGG 16-layer model (configuration "D")"""
    return _vgg("vgg16", "D", False, pretrained, kwargs)


def vgg16_bn(pretrained=False, **kwargs):
    """VGG 16-layer model (configuration "D") with batch normalization"""
    return _vgg("vgg16_bn", "D", True, pretrained, kwargs)


def vgg19(pretrained=False, **kwargs):
    """VGG 19-layer model (configuration "E")"""
    return _vgg("vgg19", "E", False, pretrained, kwargs)


def vgg19_bn(pretrained=False, **kwargs):
    """VGG 19-layer model (configuration 'E') with batch normalization"""
    return _vgg("vgg19_bn", "E", True, pretrained, kwargs)
