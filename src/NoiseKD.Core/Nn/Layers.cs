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

    /// <summary>
    /// Runs the layers in order. A BatchNorm followed by a hook-free ReLU or ReLU6 runs as one fused op
    /// (<see cref="BatchNorm.Forward(Tensor, Activation, Tensor?)"/>). Under NoGrad each intermediate output
    /// goes back to the pool once the next layer has used it (<see cref="Module.ReleaseConsumed"/>).
    /// </summary>
    protected override Tensor OnForward(Tensor input)
    {
        var x = input;
        Module? producer = null;
        for (int i = 0; i < _layers.Count; i++)
        {
            var layer = _layers[i];
            Tensor y;
            if (layer is BatchNorm bn && i + 1 < _layers.Count && FusableActivation(_layers[i + 1]) is { } activation)
            {
                y = bn.Forward(x, activation);
                i++;
            }
            else y = layer.Forward(x);
            // x is the previous layer's output, or a view of this Sequential's input when a layer passed it on.
            if (producer is not null && !ReferenceEquals(x.Buffer, input.Buffer)) ReleaseConsumed(x, y, producer, layer);
            producer = _layers[i];
            x = y;
        }
        return x;
    }

    /// <summary>The activation a preceding BatchNorm can apply in its fused op, null if none (or hooks must see it run).</summary>
    static Activation? FusableActivation(Module layer) => layer.HasForwardHooks ? null : layer switch
    {
        ReLU => Activation.Relu,
        ReLU6 => Activation.Relu6,
        _ => null,
    };
}
