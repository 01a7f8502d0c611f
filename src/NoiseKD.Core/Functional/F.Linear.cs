using NoiseKD.Autograd;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    /// <summary>y = x W^T + b for x [*, in], W [out, in], b [out] (torch.nn.functional.linear).</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        RequireRank(weight, 2, "linear weight");
        int outF = weight.Shape[0], inF = weight.Shape[1];
        if (x.Rank < 1 || x.Shape[^1] != inF)
            throw new ArgumentException($"linear: input {Shape.Format(x.Shape)} does not end in {inF} features (weight {Shape.Format(weight.Shape)})");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outF))
            throw new ArgumentException($"linear: bias {Shape.Format(bias.Shape)} must be [{outF}]");
        RequireSameDevice(x, weight, "linear");
        int rows = checked((int)(x.Numel / inF));
        var shape = (int[])x.Shape.Clone();
        shape[^1] = outF;
        var y = Like(x, shape);
        var be = x.Backend;
        be.Gemm(false, true, rows, outF, inF, 1f, x.Buffer, 0, inF, weight.Buffer, 0, inF, 0f, y.Buffer, 0, outF);
        if (bias is not null) be.AddChannelBias(y.Buffer, bias.Buffer, rows, outF, 1);

        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Tape.Record(y, "Linear", inputs, gy =>
        {
            if (x.RequiresGrad)
            {
                var (gx, acc) = x.GradSink();   // dx = dy W
                be.Gemm(false, false, rows, inF, outF, 1f, gy.Buffer, 0, outF, weight.Buffer, 0, inF, acc ? 1f : 0f, gx.Buffer, 0, inF);
            }
            if (weight.RequiresGrad)
            {
                var (gw, acc) = weight.GradSink();   // dW = dy^T x
                be.Gemm(true, false, outF, inF, rows, 1f, gy.Buffer, 0, outF, x.Buffer, 0, inF, acc ? 1f : 0f, gw.Buffer, 0, inF);
            }
            if (bias is not null && bias.RequiresGrad)
            {
                var (gb, acc) = bias.GradSink();
                be.ChannelSum(gy.Buffer, rows, outF, 1, gb.Buffer, acc);
            }
        });
    }
}
