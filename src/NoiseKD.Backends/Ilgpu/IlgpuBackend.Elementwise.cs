using NoiseKD.Kernels;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Ilgpu;

// Elementwise primitives and counter-based fills: kernels/Elementwise.cs and kernels/Random.cs.
public sealed partial class IlgpuBackend
{
    public void Unary(UnaryOp op, float alpha, DeviceBuffer x, DeviceBuffer y, long count)
    {
        CheckRanges(count, x, y);
        if (count == 0) return;
        Kernels.Elementwise.Unary(Elements(count), V(x), V(y), new UnaryParams((int)op, alpha, Count(count), false));
    }

    public void UnaryBackward(UnaryOp op, float alpha, DeviceBuffer saved, DeviceBuffer dy, DeviceBuffer dx, long count, bool accumulate)
    {
        CheckRanges(count, saved, dy, dx);
        if (count == 0) return;
        Kernels.Elementwise.UnaryBackward(Elements(count), V(saved), V(dy), V(dx), new UnaryParams((int)op, alpha, Count(count), accumulate));
    }

    public void Binary(BinaryOp op, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y, long count)
    {
        CheckRanges(count, a, b, y);
        if (count == 0) return;
        Kernels.Elementwise.Binary(Elements(count), V(a), V(b), V(y), new UnaryParams((int)op, 0f, Count(count), false));
    }

    public void Axpby(float alpha, DeviceBuffer x, float beta, DeviceBuffer y, long count)
    {
        CheckRanges(count, x, y);
        if (count == 0) return;
        Kernels.Elementwise.Axpby(Elements(count), V(x), V(y), new ScaleParams(alpha, beta, Count(count)));
    }

    public void Affine(float alpha, DeviceBuffer x, float beta, DeviceBuffer y, long count)
    {
        CheckRanges(count, x, y);
        if (count == 0) return;
        Kernels.Elementwise.Affine(Elements(count), V(x), V(y), new ScaleParams(alpha, beta, Count(count)));
    }

    public void FillUniform(DeviceBuffer destination, long count, ulong seed, ulong offset, float low, float high)
    {
        CheckRange(destination, 0, count);
        if (count > 0) Kernels.Random.Uniform(Elements(count), V(destination), new RandomParams(Count(count), seed, offset, low, high - low));
    }

    public void FillNormal(DeviceBuffer destination, long count, ulong seed, ulong offset, float mean, float std)
    {
        CheckRange(destination, 0, count);
        if (count > 0) Kernels.Random.Normal(Elements(count), V(destination), new RandomParams(Count(count), seed, offset, mean, std));
    }

    public void FillBernoulli(DeviceBuffer destination, long count, ulong seed, ulong offset, float keepProbability, float scale)
    {
        CheckRange(destination, 0, count);
        if (count > 0) Kernels.Random.Bernoulli(Elements(count), V(destination), new RandomParams(Count(count), seed, offset, keepProbability, scale));
    }
}
