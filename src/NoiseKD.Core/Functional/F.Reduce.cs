using NoiseKD.Autograd;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    /// <summary>Sum of all elements, as a 0-d tensor.</summary>
    public static Tensor Sum(Tensor x)
    {
        var y = Like(x, []);
        x.Backend.Sum(x.Buffer, x.Numel, y.Buffer, 0);
        return Tape.Record(y, "Sum", [x], gy =>
        {
            // Broadcast the scalar gradient without reading it back: a one-channel bias add.
            var gx = AdditiveGradSink(x);
            x.Backend.AddChannelBias(gx.Buffer, gy.Buffer, 1, 1, checked((int)x.Numel));
        });
    }

    /// <summary>Mean of all elements, as a 0-d tensor.</summary>
    public static Tensor Mean(Tensor x) => Scale(Sum(x), 1f / x.Numel);

    /// <summary>
    /// torch's x.mean(dim=0): the mean over the batch axis of x [N, *], shaped [*]. A channel sum of
    /// x viewed as [N, rest]; its backward adds dy/N to every row.
    /// </summary>
    public static Tensor MeanOverBatch(Tensor x)
    {
        if (x.Rank < 1 || x.Shape[0] < 1) throw new ArgumentException($"mean over batch: input {Shape.Format(x.Shape)} has no batch axis");
        int n = x.Shape[0], rest = checked((int)(x.Numel / n));
        var y = Like(x, x.Shape[1..]);
        var be = x.Backend;
        be.ChannelSum(x.Buffer, n, rest, 1, y.Buffer, accumulate: false);
        be.Affine(1f / n, y.Buffer, 0f, y.Buffer, rest);
        return Tape.Record(y, "MeanOverBatch", [x], gy =>
        {
            var gx = AdditiveGradSink(x);
            using var scaled = be.Allocate(rest);
            be.Affine(1f / n, gy.Buffer, 0f, scaled, rest);
            be.AddChannelBias(gx.Buffer, scaled, n, rest, 1);
        });
    }
}
