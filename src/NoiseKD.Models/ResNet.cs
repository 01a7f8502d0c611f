using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Models;

/// <summary>
/// ResNet in the CIFAR form (He et al. 2016, as in the widely used pytorch-cifar code that the
/// Gaussian-noise KD paper builds on): 3x3 stride-1 stem without max-pool, four stages of
/// BasicBlock or Bottleneck with strides 1, 2, 2, 2, 1x1 projection shortcuts, global average pool,
/// linear head. Parameter names: conv1, bn1, layer{1..4}.{i}.{conv1, bn1, conv2, bn2[, conv3, bn3],
/// shortcut.0, shortcut.1}, linear.
/// </summary>
public sealed class ResNet : Module
{
    readonly Conv2d _conv1;
    readonly BatchNorm2d _bn1;
    readonly Sequential[] _layers;
    readonly Linear _linear;

    public ResNet(bool bottleneck, int[] blocksPerStage, int inChannels = 3, int classes = 10, float width = 1f)
    {
        int expansion = bottleneck ? 4 : 1;
        int stem = Widths.Scale(64, width);
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, stem, 3, 1, 1, bias: false));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(stem));
        int inPlanes = stem;
        _layers = new Sequential[4];
        for (int s = 0; s < 4; s++)
        {
            int planes = Widths.Scale(64 << s, width);
            var stage = new Sequential();
            for (int b = 0; b < blocksPerStage[s]; b++)
            {
                int stride = b == 0 && s > 0 ? 2 : 1;
                stage.Add(bottleneck ? new Bottleneck(inPlanes, planes, stride) : new BasicBlock(inPlanes, planes, stride));
                inPlanes = planes * expansion;
            }
            _layers[s] = RegisterModule($"layer{s + 1}", stage);
        }
        _linear = RegisterModule("linear", new Linear(inPlanes, classes));
        FeatureCount = inPlanes;
    }

    /// <summary>Width of the pooled feature vector that feeds the linear head.</summary>
    public int FeatureCount { get; }

    public static ResNet ResNet18(int inChannels = 3, int classes = 10, float width = 1f) => new(false, [2, 2, 2, 2], inChannels, classes, width);
    public static ResNet ResNet34(int inChannels = 3, int classes = 10, float width = 1f) => new(false, [3, 4, 6, 3], inChannels, classes, width);
    public static ResNet ResNet50(int inChannels = 3, int classes = 10, float width = 1f) => new(true, [3, 4, 6, 3], inChannels, classes, width);
    public static ResNet ResNet101(int inChannels = 3, int classes = 10, float width = 1f) => new(true, [3, 4, 23, 3], inChannels, classes, width);

    protected override Tensor OnForward(Tensor x)
    {
        var h = Blocks.ConvBn(x, _conv1, _bn1, Activation.Relu);
        h = Blocks.Chain(h, _bn1, _layers);
        return _linear.Forward(Blocks.GlobalAveragePool(h, _layers[^1]));
    }

    /// <summary>1x1 convolution + BatchNorm when the block changes resolution or width; empty otherwise.</summary>
    internal static Sequential Shortcut(int inPlanes, int outPlanes, int stride) =>
        stride != 1 || inPlanes != outPlanes
            ? new Sequential(new Conv2d(inPlanes, outPlanes, 1, stride, bias: false), new BatchNorm2d(outPlanes))
            : new Sequential();
}

/// <summary>Two 3x3 convolutions with a residual connection (expansion 1).</summary>
public sealed class BasicBlock : Module
{
    readonly Conv2d _conv1, _conv2;
    readonly BatchNorm2d _bn1, _bn2;
    readonly Sequential _shortcut;

    public BasicBlock(int inPlanes, int planes, int stride)
    {
        _conv1 = RegisterModule("conv1", new Conv2d(inPlanes, planes, 3, stride, 1, bias: false));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(planes));
        _conv2 = RegisterModule("conv2", new Conv2d(planes, planes, 3, 1, 1, bias: false));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(planes));
        _shortcut = RegisterModule("shortcut", ResNet.Shortcut(inPlanes, planes, stride));
    }

    protected override Tensor OnForward(Tensor x)
    {
        var h = Blocks.ConvBn(x, _conv1, _bn1, Activation.Relu);
        var c2 = _conv2.Forward(h);
        ReleaseConsumed(h, c2, _bn1, _conv2);
        return Blocks.BnAddShortcut(c2, _conv2, _bn2, Activation.Relu, x, _shortcut);
    }
}

/// <summary>1x1 reduce, 3x3, 1x1 expand (x4) with a residual connection.</summary>
public sealed class Bottleneck : Module
{
    readonly Conv2d _conv1, _conv2, _conv3;
    readonly BatchNorm2d _bn1, _bn2, _bn3;
    readonly Sequential _shortcut;

    public Bottleneck(int inPlanes, int planes, int stride)
    {
        _conv1 = RegisterModule("conv1", new Conv2d(inPlanes, planes, 1, bias: false));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(planes));
        _conv2 = RegisterModule("conv2", new Conv2d(planes, planes, 3, stride, 1, bias: false));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(planes));
        _conv3 = RegisterModule("conv3", new Conv2d(planes, planes * 4, 1, bias: false));
        _bn3 = RegisterModule("bn3", new BatchNorm2d(planes * 4));
        _shortcut = RegisterModule("shortcut", ResNet.Shortcut(inPlanes, planes * 4, stride));
    }

    protected override Tensor OnForward(Tensor x)
    {
        var h1 = Blocks.ConvBn(x, _conv1, _bn1, Activation.Relu);
        var h2 = Blocks.ConvBn(h1, _conv2, _bn2, Activation.Relu);
        ReleaseConsumed(h1, h2, _bn1, _conv2);
        var c3 = _conv3.Forward(h2);
        ReleaseConsumed(h2, c3, _bn2, _conv3);
        return Blocks.BnAddShortcut(c3, _conv3, _bn3, Activation.Relu, x, _shortcut);
    }
}
