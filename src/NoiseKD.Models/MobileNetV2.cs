using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Models;

/// <summary>
/// MobileNetV2 (Sandler et al. 2018) in the CIFAR form of pytorch-cifar: stride-1 stem, the stage
/// table below (stride 1 at the 24-channel stage for 32x32 inputs), ReLU activations, 1x1 projection
/// shortcut when the stride is 1 and the width changes, 1280-channel head. Names: conv1, bn1,
/// layers.{i}.{conv1, bn1, conv2, bn2, conv3, bn3, shortcut.0, shortcut.1}, conv2, bn2, linear.
/// </summary>
public sealed class MobileNetV2 : Module
{
    /// <summary>(expansion, out channels, blocks, first stride) per stage.</summary>
    public static readonly (int Expansion, int Out, int Blocks, int Stride)[] Stages =
        [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

    readonly Conv2d _conv1, _conv2;
    readonly BatchNorm2d _bn1, _bn2;
    readonly Sequential _layers;
    readonly Linear _linear;

    public MobileNetV2(int inChannels = 3, int classes = 10, float width = 1f)
    {
        int stem = Widths.Scale(32, width);
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, stem, 3, 1, 1, bias: false));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(stem));
        _layers = RegisterModule("layers", new Sequential());
        int inPlanes = stem;
        foreach (var (expansion, outRaw, blocks, stride) in Stages)
        {
            int outPlanes = Widths.Scale(outRaw, width);
            for (int b = 0; b < blocks; b++)
            {
                _layers.Add(new InvertedResidual(inPlanes, outPlanes, expansion, b == 0 ? stride : 1));
                inPlanes = outPlanes;
            }
        }
        int head = Widths.Scale(1280, Math.Max(1f, width));
        _conv2 = RegisterModule("conv2", new Conv2d(inPlanes, head, 1, bias: false));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(head));
        _linear = RegisterModule("linear", new Linear(head, classes));
    }

    protected override Tensor OnForward(Tensor x)
    {
        var stem = Blocks.ConvBn(x, _conv1, _bn1, Activation.Relu);
        var h = _layers.Forward(stem);
        ReleaseConsumed(stem, h, _bn1, _layers);
        var head = Blocks.ConvBn(h, _conv2, _bn2, Activation.Relu);
        ReleaseConsumed(h, head, _layers, _conv2);
        return _linear.Forward(Blocks.GlobalAveragePool(head, _bn2));
    }
}

/// <summary>Expand (1x1) - depthwise 3x3 - project (1x1, linear), residual when the stride is 1.</summary>
public sealed class InvertedResidual : Module
{
    readonly Conv2d _conv1, _conv2, _conv3;
    readonly BatchNorm2d _bn1, _bn2, _bn3;
    readonly Sequential _shortcut;
    readonly int _stride;

    public InvertedResidual(int inPlanes, int outPlanes, int expansion, int stride)
    {
        int planes = expansion * inPlanes;
        _stride = stride;
        _conv1 = RegisterModule("conv1", new Conv2d(inPlanes, planes, 1, bias: false));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(planes));
        _conv2 = RegisterModule("conv2", new Conv2d(planes, planes, 3, stride, 1, groups: planes, bias: false));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(planes));
        _conv3 = RegisterModule("conv3", new Conv2d(planes, outPlanes, 1, bias: false));
        _bn3 = RegisterModule("bn3", new BatchNorm2d(outPlanes));
        _shortcut = RegisterModule("shortcut", stride == 1 && inPlanes != outPlanes
            ? new Sequential(new Conv2d(inPlanes, outPlanes, 1, bias: false), new BatchNorm2d(outPlanes))
            : new Sequential());
    }

    protected override Tensor OnForward(Tensor x)
    {
        var h1 = Blocks.ConvBn(x, _conv1, _bn1, Activation.Relu);
        var h2 = Blocks.ConvBn(h1, _conv2, _bn2, Activation.Relu);
        ReleaseConsumed(h1, h2, _bn1, _conv2);
        var c3 = _conv3.Forward(h2);
        ReleaseConsumed(h2, c3, _bn2, _conv3);
        return _stride == 1
            ? Blocks.BnAddShortcut(c3, _conv3, _bn3, Activation.None, x, _shortcut)
            : Blocks.Bn(c3, _conv3, _bn3, Activation.None);
    }
}
