using NoiseKD.Kernels;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Ilgpu;

// Pooling and nearest upsampling over N*C planes: kernels/Pool.cs (backward passes are gathers).
public sealed partial class IlgpuBackend
{
    public void MaxPool2dForward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer y)
    {
        CheckPool(g, x, y);
        Kernels.Pool.MaxForward(Elements(g.OutputLength), V(x), V(y), Params(g));
    }

    public void MaxPool2dBackward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckPool(g, x, dy);
        CheckRange(dx, 0, g.InputLength);
        Kernels.Pool.MaxBackward(Elements(g.InputLength), V(x), V(dy), V(dx), Params(g));
    }

    public void AvgPool2dForward(in PoolGeometry g, DeviceBuffer x, DeviceBuffer y)
    {
        CheckPool(g, x, y);
        Kernels.Pool.AverageForward(Elements(g.OutputLength), V(x), V(y), Params(g));
    }

    public void AvgPool2dBackward(in PoolGeometry g, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckPool(g, dx, dy);
        Kernels.Pool.AverageBackward(Elements(g.InputLength), V(dy), V(dx), Params(g));
    }

    public void AdaptiveAvgPool2dForward(int planes, int h, int w, int outH, int outW, DeviceBuffer x, DeviceBuffer y)
    {
        CheckAdaptive(planes, h, w, outH, outW, x, y);
        Kernels.Pool.AverageForward(Elements((long)planes * outH * outW), V(x), V(y), Adaptive(planes, h, w, outH, outW));
    }

    public void AdaptiveAvgPool2dBackward(int planes, int h, int w, int outH, int outW, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckAdaptive(planes, h, w, outH, outW, dx, dy);
        Kernels.Pool.AverageBackward(Elements((long)planes * h * w), V(dy), V(dx), Adaptive(planes, h, w, outH, outW));
    }

    public void UpsampleNearestForward(int planes, int h, int w, int scaleH, int scaleW, DeviceBuffer x, DeviceBuffer y)
    {
        CheckUpsample(planes, h, w, scaleH, scaleW, x, y);
        Kernels.Pool.UpsampleForward(Elements((long)planes * h * scaleH * w * scaleW), V(x), V(y), Upsample(planes, h, w, scaleH, scaleW));
    }

    public void UpsampleNearestBackward(int planes, int h, int w, int scaleH, int scaleW, DeviceBuffer dy, DeviceBuffer dx)
    {
        CheckUpsample(planes, h, w, scaleH, scaleW, dx, dy);
        Kernels.Pool.UpsampleBackward(Elements((long)planes * h * w), V(dy), V(dx), Upsample(planes, h, w, scaleH, scaleW));
    }

    PoolParams Params(in PoolGeometry g)
    {
        Count(Math.Max(g.InputLength, g.OutputLength));
        return new(g.Planes, g.H, g.W, g.OutH, g.OutW, g.KH, g.KW, g.StrideH, g.StrideW, g.PadH, g.PadW, g.CountIncludePad, adaptive: false);
    }

    PoolParams Adaptive(int planes, int h, int w, int outH, int outW)
    {
        Count(Math.Max((long)planes * h * w, (long)planes * outH * outW));
        return new(planes, h, w, outH, outW, 1, 1, 1, 1, 0, 0, includePad: true, adaptive: true);
    }

    /// <summary>Nearest upsampling as a pool whose window sizes are the scale factors.</summary>
    PoolParams Upsample(int planes, int h, int w, int scaleH, int scaleW)
    {
        Count((long)planes * h * scaleH * w * scaleW);
        return new(planes, h, w, h * scaleH, w * scaleW, scaleH, scaleW, 1, 1, 0, 0, includePad: false, adaptive: false);
    }
}
