using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Kernels;

// Pooling and nearest upsampling over N*C planes: kernels/pool.cl (backward passes are gathers).
public abstract partial class KernelBackend
{
    public void MaxPool2dForward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer y)
    {
        CheckPool(g, x, y);
        Run("max_pool_forward", Grid.Elements(g.OutputLength), [Of(x), Of(y), .. Geometry(g)]);
    }

    public void MaxPool2dBackward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckPool(g, x, dy);
        CheckRange(dx, 0, g.InputLength);
        Run("max_pool_backward", Grid.Elements(g.InputLength), [Of(x), Of(dy), Of(dx), .. Geometry(g)]);
    }

    public void AvgPool2dForward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer y)
    {
        CheckPool(g, x, y);
        Run("avg_pool_forward", Grid.Elements(g.OutputLength), [Of(x), Of(y), .. Geometry(g), g.CountIncludePad, false]);
    }

    public void AvgPool2dBackward(in PoolGeometry g, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckPool(g, dx, dy);
        Run("avg_pool_backward", Grid.Elements(g.InputLength), [Of(dy), Of(dx), .. Geometry(g), g.CountIncludePad, false]);
    }

    public void AdaptiveAvgPool2dForward(int planes, int h, int w, int outH, int outW, DeviceBuffer x, DeviceBuffer y)
    {
        CheckAdaptive(planes, h, w, outH, outW, x, y);
        Run("avg_pool_forward", Grid.Elements((long)planes * outH * outW), [Of(x), Of(y), .. Adaptive(planes, h, w, outH, outW)]);
    }

    public void AdaptiveAvgPool2dBackward(int planes, int h, int w, int outH, int outW, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckAdaptive(planes, h, w, outH, outW, dx, dy);
        Run("avg_pool_backward", Grid.Elements((long)planes * h * w), [Of(dy), Of(dx), .. Adaptive(planes, h, w, outH, outW)]);
    }

    public void UpsampleNearestForward(int planes, int h, int w, int scaleH, int scaleW, DeviceBuffer x, DeviceBuffer y)
    {
        CheckUpsample(planes, h, w, scaleH, scaleW, x, y);
        Run("upsample_forward", Grid.Elements((long)planes * h * scaleH * w * scaleW), [Of(x), Of(y), planes, h, w, scaleH, scaleW]);
    }

    public void UpsampleNearestBackward(int planes, int h, int w, int scaleH, int scaleW, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckUpsample(planes, h, w, scaleH, scaleW, dx, dy);
        Run("upsample_backward", Grid.Elements((long)planes * h * w), [Of(dy), Of(dx), planes, h, w, scaleH, scaleW]);
    }

    /// <summary>The POOL_GEOMETRY arguments of kernels/pool.cl, in order.</summary>
    static KernelArg[] Geometry(in PoolGeometry g)
        => [g.Planes, g.H, g.W, g.OutH, g.OutW, g.KH, g.KW, g.StrideH, g.StrideW, g.PadH, g.PadW];

    /// <summary>POOL_GEOMETRY plus (includePad, adaptive) for an adaptive average pool (window sizes unused).</summary>
    static KernelArg[] Adaptive(int planes, int h, int w, int outH, int outW)
        => [planes, h, w, outH, outW, 1, 1, 1, 1, 0, 0, true, true];
}
