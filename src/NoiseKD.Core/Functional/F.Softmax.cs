using NoiseKD.Autograd;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    /// <summary>Softmax over the last axis.</summary>
    public static Tensor Softmax(Tensor x) => SoftmaxLastAxis(x, log: false);

    /// <summary>Log-softmax over the last axis (computed stably, not as log(softmax)).</summary>
    public static Tensor LogSoftmax(Tensor x) => SoftmaxLastAxis(x, log: true);

    static Tensor SoftmaxLastAxis(Tensor x, bool log)
    {
        if (x.Rank < 1) throw new ArgumentException("softmax: needs at least one axis");
        int cols = x.Shape[^1];
        int rows = checked((int)(x.Numel / cols));
        var y = Like(x);
        x.Backend.Softmax(x.Buffer, rows, cols, log, y.Buffer);
        return Tape.Record(y, log ? "LogSoftmax" : "Softmax", [x], gy =>
        {
            var (gx, acc) = x.GradSink();
            x.Backend.SoftmaxBackward(y.Buffer, gy.Buffer, rows, cols, log, gx.Buffer, acc);
        });
    }
}
