using NoiseKD.Functional;
using NoiseKD.Tensors;

namespace NoiseKD.Nn;

// Parameter-free layers: each is a thin module around one functional op, so hooks can see them.

public sealed class ReLU : Module { protected override Tensor OnForward(Tensor x) => F.Relu(x); }
public sealed class ReLU6 : Module { protected override Tensor OnForward(Tensor x) => F.Relu6(x); }
public sealed class Tanh : Module { protected override Tensor OnForward(Tensor x) => F.Tanh(x); }
public sealed class Sigmoid : Module { protected override Tensor OnForward(Tensor x) => F.Sigmoid(x); }
public sealed class Identity : Module { protected override Tensor OnForward(Tensor x) => x; }

public sealed class LeakyReLU(float negativeSlope = 0.01f) : Module
{
    public float NegativeSlope { get; } = negativeSlope;
    protected override Tensor OnForward(Tensor x) => F.LeakyRelu(x, NegativeSlope);
}

public sealed class Flatten(int startDim = 1) : Module
{
    protected override Tensor OnForward(Tensor x) => F.Flatten(x, startDim);
}

public sealed class Dropout(float p = 0.5f) : Module
{
    public float P { get; } = p;
    protected override Tensor OnForward(Tensor x) => F.Dropout(x, P, Training);
}

public sealed class MaxPool2d(int kernelSize, int? stride = null, int padding = 0) : Module
{
    protected override Tensor OnForward(Tensor x) => F.MaxPool2d(x, kernelSize, stride, padding);
}

public sealed class AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool countIncludePad = true) : Module
{
    protected override Tensor OnForward(Tensor x) => F.AvgPool2d(x, kernelSize, stride, padding, countIncludePad);
}

public sealed class AdaptiveAvgPool2d(int outH, int outW) : Module
{
    public AdaptiveAvgPool2d(int size) : this(size, size) { }
    protected override Tensor OnForward(Tensor x) => F.AdaptiveAvgPool2d(x, outH, outW);
}

public sealed class UpsampleNearest(int scale) : Module
{
    protected override Tensor OnForward(Tensor x) => F.UpsampleNearest(x, scale, scale);
}

/// <summary>torch.nn.Sequential: children named "0", "1", ... run in order.</summary>
public sealed class Sequential : Module
{
    readonly List<Module> _layers = new();

    public Sequential(params Module[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    public Sequential Add(Module layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    public int Count => _layers.Count;
    public Module this[int index] => _layers[index];

    protected override Tensor OnForward(Tensor x)
    {
        foreach (var layer in _layers) x = layer.Forward(x);
        return x;
    }
}
