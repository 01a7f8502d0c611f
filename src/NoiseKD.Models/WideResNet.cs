using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Models;

/// <summary>
/// Wide residual network WRN-depth-k (Zagoruyko &amp; Komodakis 2016) in the pre-activation form used by
/// the KD literature's common code (RepDistiller's wrn.py): stages of width 16k, 32k, 64k with
/// (depth-4)/6 blocks each. Names: conv1, block{1..3}.layer.{i}.{bn1, conv1, bn2, conv2, convShortcut}, bn1, fc.
/// </summary>
public sealed class WideResNet : Module
{
    readonly Conv2d _conv1;
    readonly WideStage[] _blocks;
    readonly BatchNorm2d _bn1;
    readonly Linear _fc;

    public WideResNet(int depth, int widenFactor, int inChannels = 3, int classes = 10, float width = 1f, float dropRate = 0f)
    {
        if (depth < 10 || (depth - 4) % 6 != 0) throw new ArgumentException($"WRN depth {depth} must be 6n+4 (10, 16, 22, 28, 40, ...)");
        if (widenFactor <= 0) throw new ArgumentException($"WRN widen factor {widenFactor} must be positive");
        int n = (depth - 4) / 6;
        int[] channels = [Widths.Scale(16, width), Widths.Scale(16 * widenFactor, width),
                          Widths.Scale(32 * widenFactor, width), Widths.Scale(64 * widenFactor, width)];
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, channels[0], 3, 1, 1, bias: false));
        _blocks = new WideStage[3];
        for (int s = 0; s < 3; s++)
            _blocks[s] = RegisterModule($"block{s + 1}", new WideStage(n, channels[s], channels[s + 1], s == 0 ? 1 : 2, dropRate));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(channels[3]));
        _fc = RegisterModule("fc", new Linear(channels[3], classes));
    }

    protected override Tensor OnForward(Tensor x)
    {
        var h = Blocks.Chain(_conv1.Forward(x), _conv1, _blocks);
        var activated = _bn1.Forward(h, Activation.Relu);
        ReleaseConsumed(h, activated, _blocks[^1], _bn1);
        return _fc.Forward(Blocks.GlobalAveragePool(activated, _bn1));
    }
}

/// <summary>RepDistiller's NetworkBlock: a Sequential named "layer".</summary>
public sealed class WideStage : Module
{
    readonly Sequential _layer;

    public WideStage(int blocks, int inPlanes, int outPlanes, int stride, float dropRate)
    {
        _layer = RegisterModule("layer", new Sequential());
        for (int i = 0; i < blocks; i++)
            _layer.Add(new WideBlock(i == 0 ? inPlanes : outPlanes, outPlanes, i == 0 ? stride : 1, dropRate));
    }

    protected override Tensor OnForward(Tensor x) => _layer.Forward(x);
}

/// <summary>
/// Pre-activation block: BN-ReLU-conv3x3-BN-ReLU-(dropout)-conv3x3. When the width changes, the
/// shortcut is a 1x1 convolution of the pre-activated input (as in the reference code).
/// </summary>
public sealed class WideBlock : Module
{
    readonly BatchNorm2d _bn1, _bn2;
    readonly Conv2d _conv1, _conv2;
    readonly Conv2d? _convShortcut;
    readonly float _dropRate;

    public WideBlock(int inPlanes, int outPlanes, int stride, float dropRate)
    {
        _bn1 = RegisterModule("bn1", new BatchNorm2d(inPlanes));
        _conv1 = RegisterModule("conv1", new Conv2d(inPlanes, outPlanes, 3, stride, 1, bias: false));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(outPlanes));
        _conv2 = RegisterModule("conv2", new Conv2d(outPlanes, outPlanes, 3, 1, 1, bias: false));
        if (inPlanes != outPlanes)
            _convShortcut = RegisterModule("convShortcut", new Conv2d(inPlanes, outPlanes, 1, stride, 0, bias: false));
        _dropRate = dropRate;
    }

    protected override Tensor OnForward(Tensor x)
    {
        var activated = _bn1.Forward(x, Activation.Relu);
        var shortcut = _convShortcut is null ? x : _convShortcut.Forward(activated);
        var h = Blocks.ConvBn(activated, _conv1, _bn2, Activation.Relu);
        ReleaseConsumed(activated, h, _bn1, _conv1, _convShortcut);
        var dropped = F.Dropout(h, _dropRate, Training);
        ReleaseConsumed(h, dropped, _bn2);
        var c2 = _conv2.Forward(dropped);
        ReleaseConsumed(dropped, c2, _bn2, _conv2);
        var y = F.Add(shortcut, c2);
        ReleaseConsumed(c2, y, _conv2);
        if (_convShortcut is not null) ReleaseConsumed(shortcut, y, _convShortcut);
        return y;
    }
}
