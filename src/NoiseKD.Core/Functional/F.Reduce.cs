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
}
