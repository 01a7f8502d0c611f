using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    public static Tensor MaxPool2d(Tensor x, int kernel, int? stride = null, int padding = 0)
    {
        var g = PoolOver(x, kernel, stride ?? kernel, padding, true);
        var y = Like(x, [x.Shape[0], x.Shape[1], g.OutH, g.OutW]);
        x.Backend.MaxPool2dForward(g, x.Buffer, y.Buffer);
        return Tape.Record(y, "MaxPool2d", [x], gy => x.Backend.MaxPool2dBackward(g, x.Buffer, gy.Buffer, AdditiveGradSink(x).Buffer));
    }

    /// <summary>avg_pool2d; count_include_pad as in PyTorch (default true).</summary>
    public static Tensor AvgPool2d(Tensor x, int kernel, int? stride = null, int padding = 0, bool countIncludePad = true)
    {
        var g = PoolOver(x, kernel, stride ?? kernel, padding, countIncludePad);
        var y = Like(x, [x.Shape[0], x.Shape[1], g.OutH, g.OutW]);
        x.Backend.AvgPool2dForward(g, x.Buffer, y.Buffer);
        return Tape.Record(y, "AvgPool2d", [x], gy => x.Backend.AvgPool2dBackward(g, gy.Buffer, AdditiveGradSink(x).Buffer));
    }

    public static Tensor AdaptiveAvgPool2d(Tensor x, int outH, int outW)
    {
        RequireRank(x, 4, "adaptive_avg_pool2d");
        if (outH <= 0 || outW <= 0) throw new ArgumentException($"adaptive_avg_pool2d: output size {outH}x{outW} must be positive");
        int planes = x.Shape[0] * x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var y = Like(x, [x.Shape[0], x.Shape[1], outH, outW]);
        x.Backend.AdaptiveAvgPool2dForward(planes, h, w, outH, outW, x.Buffer, y.Buffer);
        return Tape.Record(y, "AdaptiveAvgPool2d", [x],
            gy => x.Backend.AdaptiveAvgPool2dBackward(planes, h, w, outH, outW, gy.Buffer, AdditiveGradSink(x).Buffer));
    }

    /// <summary>Nearest-neighbour upsampling by integer factors (interpolate(mode='nearest')).</summary>
    public static Tensor UpsampleNearest(Tensor x, int scaleH, int scaleW)
    {
        RequireRank(x, 4, "upsample_nearest");
        if (scaleH <= 0 || scaleW <= 0) throw new ArgumentException($"upsample_nearest: scale {scaleH}x{scaleW} must be positive");
        int planes = x.Shape[0] * x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var y = Like(x, [x.Shape[0], x.Shape[1], h * scaleH, w * scaleW]);
        x.Backend.UpsampleNearestForward(planes, h, w, scaleH, scaleW, x.Buffer, y.Buffer);
        return Tape.Record(y, "UpsampleNearest", [x],
            gy => x.Backend.UpsampleNearestBackward(planes, h, w, scaleH, scaleW, gy.Buffer, AdditiveGradSink(x).Buffer));
    }

    static PoolGeometry PoolOver(Tensor x, int kernel, int stride, int padding, bool countIncludePad)
    {
        RequireRank(x, 4, "pool2d");
        var g = new PoolGeometry(x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], kernel, kernel, stride, stride,
                                 padding, padding, countIncludePad);
        g.Validate();
        return g;
    }
}
