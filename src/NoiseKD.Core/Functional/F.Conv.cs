using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    /// <summary>
    /// torch.nn.functional.conv2d for x [N, Cin, H, W] and weight [Cout, Cin/groups, KH, KW];
    /// depthwise when groups == Cin == Cout.
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null,
                                int stride = 1, int padding = 0, int groups = 1)
        => Conv2d(x, weight, bias, (stride, stride), (padding, padding), groups);

    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, int groups)
    {
        RequireRank(x, 4, "conv2d input");
        RequireRank(weight, 4, "conv2d weight");
        RequireSameDevice(x, weight, "conv2d");
        var g = new ConvGeometry(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3],
                                 weight.Shape[0], weight.Shape[2], weight.Shape[3],
                                 stride.H, stride.W, padding.H, padding.W, groups);
        g.Validate();
        if (weight.Shape[1] != g.CinPerGroup)
            throw new ArgumentException($"conv2d: weight {Shape.Format(weight.Shape)} expects {weight.Shape[1] * groups} input channels, input has {g.Cin}");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != g.Cout))
            throw new ArgumentException($"conv2d: bias {Shape.Format(bias.Shape)} must be [{g.Cout}]");

        var be = x.Backend;
        var y = Like(x, [g.N, g.Cout, g.OutH, g.OutW]);
        be.Conv2dForward(g, x.Buffer, weight.Buffer, y.Buffer);
        int outHw = g.OutH * g.OutW;
        if (bias is not null) be.AddChannelBias(y.Buffer, bias.Buffer, g.N, g.Cout, outHw);

        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Tape.Record(y, "Conv2d", inputs, gy =>
        {
            if (x.RequiresGrad)
            {
                var (gx, acc) = x.GradSink();
                be.Conv2dBackwardData(g, gy.Buffer, weight.Buffer, gx.Buffer, acc);
            }
            if (weight.RequiresGrad)
            {
                var (gw, acc) = weight.GradSink();
                be.Conv2dBackwardWeight(g, x.Buffer, gy.Buffer, gw.Buffer, acc);
            }
            if (bias is not null && bias.RequiresGrad)
            {
                var (gb, acc) = bias.GradSink();
                be.ChannelSum(gy.Buffer, g.N, g.Cout, outHw, gb.Buffer, acc);
            }
        });
    }
}
