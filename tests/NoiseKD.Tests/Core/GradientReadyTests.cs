using NoiseKD.Functional;
using NoiseKD.Tensors;
using Xunit;

namespace NoiseKD.Tests.Core;

/// <summary>
/// Backward's gradient-ready hook (what the data-parallel reducer starts each bucket's all-reduce from): each
/// leaf that needs a gradient is reported exactly once, and only when its gradient is complete.
/// </summary>
public class GradientReadyTests
{
    [Fact]
    public void EachLeafIsReportedOnceWithItsFinalGradient()
    {
        using var scope = new TensorScope();
        var w = Tensor.FromArray([1f, 2f, 3f], [3]);
        var v = Tensor.FromArray([0.5f, -1f, 2f], [3]);
        var a = Tensor.FromArray([3f, 1f, -2f], [3]);
        w.RequiresGrad = v.RequiresGrad = true;
        // w feeds two branches, one of them through v: its gradient is complete only after both have run.
        var loss = F.Add(F.Sum(F.Mul(w, a)), F.Sum(F.Mul(F.Mul(w, v), a)));
        var reported = new List<(Tensor Leaf, float[] GradientThen)>();
        loss.Backward(leaf => reported.Add((leaf, leaf.Grad!.ToArray())));

        Assert.Equal(2, reported.Count);
        Assert.Contains(reported, r => ReferenceEquals(r.Leaf, w));
        Assert.Contains(reported, r => ReferenceEquals(r.Leaf, v));
        foreach (var (leaf, then) in reported) Assert.Equal(leaf.Grad!.ToArray(), then);
        // By hand: dL/dw = a + v * a, dL/dv = w * a.
        Assert.Equal([3f + 1.5f, 1f - 1f, -2f - 4f], w.Grad!.ToArray());
        Assert.Equal([3f, 2f, -6f], v.Grad!.ToArray());
    }
}
