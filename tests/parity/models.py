"""PyTorch reference definitions of NoiseKD.Native's built-in architectures.

Each class mirrors src/NoiseKD.Models/*.cs exactly: the same module names (so state_dict keys are
identical), the same channel rounding for the width multiplier (round(c * w), at least 1), adaptive
average pooling to 1x1 before the head, and LeNet-5's padding 2 on conv1 for 28x28 inputs. These are
the layouts of pytorch-cifar (ResNet, MobileNetV2), RepDistiller (WRN) and DAFL (LeNet-5).

`python3 tests/parity/models.py` checks the parameter counts against the ones our C# tests assert
(tests/NoiseKD.Tests/Models/ParameterCountTests.cs).
"""
import re

import torch
import torch.nn as nn
import torch.nn.functional as F


def scale(channels, width):
    """Widths.Scale: round(c * w), at least 1. C#'s MathF.Round rounds half to even, as Python's round."""
    return max(1, int(round(channels * width)))


# ---- ResNet (pytorch-cifar) ---------------------------------------------------------------------

def _shortcut(in_planes, out_planes, stride):
    if stride != 1 or in_planes != out_planes:
        return nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride, bias=False), nn.BatchNorm2d(out_planes))
    return nn.Sequential()


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = _shortcut(in_planes, planes, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.shortcut = _shortcut(in_planes, planes * 4, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, block, blocks, in_channels=3, classes=10, width=1.0):
        super().__init__()
        stem = scale(64, width)
        self.conv1 = nn.Conv2d(in_channels, stem, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        in_planes = stem
        for s, count in enumerate(blocks):
            planes = scale(64 << s, width)
            layers = []
            for b in range(count):
                layers.append(block(in_planes, planes, 2 if b == 0 and s > 0 else 1))
                in_planes = planes * block.expansion
            setattr(self, f"layer{s + 1}", nn.Sequential(*layers))
        self.linear = nn.Linear(in_planes, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


# ---- MobileNetV2 (pytorch-cifar) ----------------------------------------------------------------

class InvertedResidual(nn.Module):
    def __init__(self, in_planes, out_planes, expansion, stride):
        super().__init__()
        self.stride = stride
        planes = expansion * in_planes
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, groups=planes, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()
        if stride == 1 and in_planes != out_planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, bias=False), nn.BatchNorm2d(out_planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return out + self.shortcut(x) if self.stride == 1 else out


class MobileNetV2(nn.Module):
    cfg = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, in_channels=3, classes=10, width=1.0):
        super().__init__()
        stem = scale(32, width)
        self.conv1 = nn.Conv2d(in_channels, stem, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        layers, in_planes = [], stem
        for expansion, out_raw, count, stride in self.cfg:
            out_planes = scale(out_raw, width)
            for b in range(count):
                layers.append(InvertedResidual(in_planes, out_planes, expansion, stride if b == 0 else 1))
                in_planes = out_planes
        self.layers = nn.Sequential(*layers)
        head = scale(1280, max(1.0, width))
        self.conv2 = nn.Conv2d(in_planes, head, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(head)
        self.linear = nn.Linear(head, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.relu(self.bn2(self.conv2(out)))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


# ---- Wide ResNet (RepDistiller wrn.py) ----------------------------------------------------------

class WideBlock(nn.Module):
    def __init__(self, in_planes, out_planes, stride, drop_rate=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.equal_in_out = in_planes == out_planes
        self.convShortcut = None if self.equal_in_out else nn.Conv2d(in_planes, out_planes, 1, stride, 0, bias=False)
        self.drop_rate = drop_rate

    def forward(self, x):
        activated = F.relu(self.bn1(x))
        out = F.relu(self.bn2(self.conv1(activated)))
        out = F.dropout(out, p=self.drop_rate, training=self.training)
        out = self.conv2(out)
        return (x if self.equal_in_out else self.convShortcut(activated)) + out


class NetworkBlock(nn.Module):
    def __init__(self, blocks, in_planes, out_planes, stride, drop_rate):
        super().__init__()
        self.layer = nn.Sequential(*[WideBlock(in_planes if i == 0 else out_planes, out_planes,
                                               stride if i == 0 else 1, drop_rate) for i in range(blocks)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, widen_factor, in_channels=3, classes=10, width=1.0, drop_rate=0.0):
        super().__init__()
        assert (depth - 4) % 6 == 0
        n = (depth - 4) // 6
        ch = [scale(16, width), scale(16 * widen_factor, width), scale(32 * widen_factor, width), scale(64 * widen_factor, width)]
        self.conv1 = nn.Conv2d(in_channels, ch[0], 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(n, ch[0], ch[1], 1, drop_rate)
        self.block2 = NetworkBlock(n, ch[1], ch[2], 2, drop_rate)
        self.block3 = NetworkBlock(n, ch[2], ch[3], 2, drop_rate)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.fc = nn.Linear(ch[3], classes)

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = F.relu(self.bn1(out))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


# ---- LeNet-5 (DAFL) and the MLP -----------------------------------------------------------------

class LeNet5(nn.Module):
    def __init__(self, in_channels=1, classes=10, half=False, image_size=32):
        super().__init__()
        assert image_size in (28, 32)
        c1, c2, c3, f1 = (3, 8, 60, 42) if half else (6, 16, 120, 84)
        self.conv1 = nn.Conv2d(in_channels, c1, 5, 1, 2 if image_size == 28 else 0)
        self.conv2 = nn.Conv2d(c1, c2, 5)
        self.conv3 = nn.Conv2d(c2, c3, 5)
        self.fc1 = nn.Linear(c3, f1)
        self.fc2 = nn.Linear(f1, classes)

    def forward(self, x):
        out = F.max_pool2d(F.relu(self.conv1(x)), 2)
        out = F.max_pool2d(F.relu(self.conv2(out)), 2)
        out = torch.flatten(F.relu(self.conv3(out)), 1)
        return self.fc2(F.relu(self.fc1(out)))


class Mlp(nn.Module):
    def __init__(self, in_features=2, classes=2, hidden_width=32, hidden_layers=2):
        super().__init__()
        blocks, width = [], in_features
        for _ in range(hidden_layers):
            blocks.append(nn.Sequential(nn.Linear(width, hidden_width), nn.BatchNorm1d(hidden_width), nn.ReLU()))
            width = hidden_width
        self.hidden = nn.Sequential(*blocks)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        return self.head(self.hidden(torch.flatten(x, 1)))


def create(arch, width=1.0, in_channels=3, classes=10, image_size=32):
    """ModelSpec.Create: the same names and arguments."""
    arch = arch.lower()
    wrn = re.fullmatch(r"wrn-(\d+)-(\d+)", arch)
    if wrn:
        return WideResNet(int(wrn.group(1)), int(wrn.group(2)), in_channels, classes, width)
    table = {
        "resnet18": lambda: ResNet(BasicBlock, [2, 2, 2, 2], in_channels, classes, width),
        "resnet34": lambda: ResNet(BasicBlock, [3, 4, 6, 3], in_channels, classes, width),
        "resnet50": lambda: ResNet(Bottleneck, [3, 4, 6, 3], in_channels, classes, width),
        "resnet101": lambda: ResNet(Bottleneck, [3, 4, 23, 3], in_channels, classes, width),
        "mobilenetv2": lambda: MobileNetV2(in_channels, classes, width),
        "lenet5": lambda: LeNet5(in_channels, classes, False, image_size),
        "lenet5-half": lambda: LeNet5(in_channels, classes, True, image_size),
        "mlp": lambda: Mlp(in_channels * image_size * image_size, classes, max(2, int(round(32 * width)))),
    }
    return table[arch]()


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


# The counts tests/NoiseKD.Tests/Models/ParameterCountTests.cs asserts for our C# models.
EXPECTED_COUNTS = [
    ("resnet18", 1.0, 3, 11_173_962),
    ("resnet34", 1.0, 3, 21_282_122),
    ("resnet50", 1.0, 3, 23_520_842),
    ("resnet101", 1.0, 3, 42_512_970),
    ("wrn-16-8", 1.0, 3, 10_961_370),
    ("wrn-40-2", 1.0, 3, 2_243_546),
    ("mobilenetv2", 1.0, 3, 2_296_922),
    ("resnet18", 0.25, 1, 701_178),
    ("resnet34", 0.25, 1, 1_334_330),
]

if __name__ == "__main__":
    failures = 0
    for arch, width, in_channels, expected in EXPECTED_COUNTS:
        count = parameter_count(create(arch, width, in_channels, 10))
        ok = count == expected
        failures += not ok
        print(f"{arch:12} width {width:<5} in {in_channels}: {count:>11,} {'ok' if ok else f'!= {expected:,}'}")
    raise SystemExit(1 if failures else 0)
