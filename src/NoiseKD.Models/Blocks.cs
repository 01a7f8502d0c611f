using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Models;

/// <summary>
/// The conv-BN-activation chains the models share, written once: BN runs as the fused
/// <see cref="BatchNorm.Forward(Tensor, Activation, Tensor?)"/>, and under NoGrad every tensor a chain
/// consumed goes back to the pool as soon as its consumer has run (<see cref="Module.ReleaseConsumed"/>).
/// Inputs belong to the caller and are never released here.
/// </summary>
internal static class Blocks
{
    /// <summary>act(bn(conv(x))).</summary>
    public static Tensor ConvBn(Tensor x, Conv2d conv, BatchNorm bn, Activation activation)
        => Bn(conv.Forward(x), conv, bn, activation);

    /// <summary>act(bn(c)) for c, conv's output, which is released once used.</summary>
    public static Tensor Bn(Tensor c, Conv2d conv, BatchNorm bn, Activation activation)
    {
        var y = bn.Forward(c, activation);
        Module.ReleaseConsumed(c, y, conv, bn);
        return y;
    }

    /// <summary>
    /// act(bn(c) + shortcut(x)), the tail of a residual block, where c is conv's output (released once used)
    /// and x the block's input (kept: the caller owns it; an empty shortcut passes it on unchanged).
    /// </summary>
    public static Tensor BnAddShortcut(Tensor c, Conv2d conv, BatchNorm bn, Activation activation, Tensor x, Sequential shortcut)
    {
        var residual = shortcut.Forward(x);
        var y = bn.Forward(c, activation, residual);
        Module.ReleaseConsumed(c, y, conv, bn);
        if (!ReferenceEquals(residual.Buffer, x.Buffer)) Module.ReleaseConsumed(residual, y, shortcut, bn);
        return y;
    }

    /// <summary>
    /// Runs <paramref name="layers"/> in order on h, an intermediate output of <paramref name="producer"/> (not
    /// the caller's input), as Sequential does: each layer's input is released once the layer has used it.
    /// </summary>
    public static Tensor Chain(Tensor h, Module producer, IEnumerable<Module> layers)
    {
        foreach (var layer in layers)
        {
            var next = layer.Forward(h);
            Module.ReleaseConsumed(h, next, producer, layer);
            (h, producer) = (next, layer);
        }
        return h;
    }

    /// <summary>flatten(adaptive_avg_pool2d(h, 1)), h (the output of <paramref name="producer"/>) released once pooled.</summary>
    public static Tensor GlobalAveragePool(Tensor h, Module producer)
    {
        var pooled = F.AdaptiveAvgPool2d(h, 1, 1);
        Module.ReleaseConsumed(h, pooled, producer);
        return F.Flatten(pooled);
    }
}
