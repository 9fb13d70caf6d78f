"""Convolutional networks for images: LeNet and a small configurable ResNet."""

from __future__ import annotations

from neuronet import nn
from neuronet.models.base import record_config, register


@register
class LeNet(nn.Module):
    """The classic conv-pool-conv-pool-dense network (LeCun et al., 1998), ReLU activations:

        conv(C->6, k) -> relu -> maxpool 2 -> conv(6->16, k) -> relu -> maxpool 2
        -> flatten -> linear 120 -> relu -> linear 84 -> relu -> linear num_classes

    Convolutions keep the spatial size ('same' padding), so it works on 8x8 digits as well as
    28x28 MNIST and 32x32 CIFAR (kernel 3 below 16 pixels, 5 above).

    Args:
        in_channels: image channels (1 for digits/MNIST, 3 for CIFAR-10).
        num_classes: outputs.
        image_size: height (= width) of the input images.
        dropout: dropout before the last two linear layers.
        channels: the two convolutions' widths (LeCun's 6 and 16 by default).
    """

    def __init__(self, in_channels=1, num_classes=10, image_size=28, dropout=0.0, channels=(6, 16)):
        super().__init__()
        record_config(self, locals())
        k = 3 if image_size < 16 else 5
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, k, padding=k // 2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, k, padding=k // 2),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        side = image_size // 4
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * side * side, 120),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """conv-BN-ReLU-conv-BN plus the input (projected by a 1x1 conv-BN when the shape changes),
    then ReLU (He et al., 2016)."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


@register
class ResNet(nn.Module):
    """A small residual network: a conv-BN-ReLU stem, stages of BasicBlocks (stride 2 between
    stages), global average pooling and a linear classifier.

    Args:
        in_channels: image channels.
        num_classes: outputs.
        widths: channels of each stage, e.g. [16, 32, 64].
        blocks: residual blocks per stage.
    """

    def __init__(self, in_channels=3, num_classes=10, widths=(16, 32, 64), blocks=1):
        super().__init__()
        record_config(self, locals())
        widths = list(widths)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        )
        stages = []
        channels = widths[0]
        for i, width in enumerate(widths):
            for j in range(blocks):
                stride = 2 if (i > 0 and j == 0) else 1
                stages.append(BasicBlock(channels, width, stride))
                channels = width
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = self.pool(self.stages(self.stem(x)))
        return self.fc(x.flatten(1))
