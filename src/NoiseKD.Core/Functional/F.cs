using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

/// <summary>
/// The differentiable operations (torch.nn.functional). Each op computes its forward pass with the
/// backend primitives and records a backward closure next to it, so forward and backward of an op
/// are read together. The op families live in the partial files F.*.cs.
/// </summary>
public static partial class F
{
    static Tensor Like(Tensor x, int[]? shape = null) => Tensor.Empty(shape ?? x.Shape, x.Backend);

    /// <summary>grad(t) += scale * g.</summary>
    static void AccumulateGrad(Tensor t, Tensor g, float scale = 1f)
    {
        var (sink, accumulate) = t.GradSink();
        t.Backend.Axpby(scale, g.Buffer, accumulate ? 1f : 0f, sink.Buffer, t.Numel);
    }

    /// <summary>grad(t) for primitives that only add (dx +=): zero-filled when it is new.</summary>
    static Tensor AdditiveGradSink(Tensor t)
    {
        var (sink, accumulate) = t.GradSink();
        if (!accumulate) t.Backend.Fill(sink.Buffer, 0, t.Numel, 0f);
        return sink;
    }

    static void RequireSameShape(Tensor a, Tensor b, string op)
    {
        if (!Shape.Equal(a.Shape, b.Shape))
            throw new ArgumentException($"{op}: shapes {Shape.Format(a.Shape)} and {Shape.Format(b.Shape)} differ");
        RequireSameDevice(a, b, op);
    }

    static void RequireSameDevice(Tensor a, Tensor b, string op)
    {
        if (!ReferenceEquals(a.Backend, b.Backend))
            throw new ArgumentException($"{op}: tensors on different devices ({a.Backend.Name}, {b.Backend.Name})");
    }

    static void RequireRank(Tensor x, int rank, string op)
    {
        if (x.Rank != rank) throw new ArgumentException($"{op}: expected a {rank}-d tensor, got {Shape.Format(x.Shape)}");
    }
}
