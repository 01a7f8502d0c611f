using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Kernels;

// Elementwise primitives: kernels/elementwise.cl and kernels/random.cl.
public abstract partial class KernelBackend
{
    public void Unary(UnaryOp op, float alpha, DeviceBuffer x, DeviceBuffer y, long count)
    {
        CheckRange(x, 0, count);
        CheckRange(y, 0, count);
        Run("unary_forward", Grid.Elements(count), [(int)op, alpha, Of(x), Of(y), count]);
    }

    public void UnaryBackward(UnaryOp op, float alpha, DeviceBuffer saved, DeviceBuffer dy, DeviceBuffer dx, long count, bool accumulate)
    {
        CheckRange(saved, 0, count);
        CheckRange(dy, 0, count);
        CheckRange(dx, 0, count);
        Run("unary_backward", Grid.Elements(count), [(int)op, alpha, Of(saved), Of(dy), Of(dx), count, accumulate]);
    }

    public void Binary(BinaryOp op, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y, long count)
    {
        CheckRange(a, 0, count);
        CheckRange(b, 0, count);
        CheckRange(y, 0, count);
        Run("binary", Grid.Elements(count), [(int)op, Of(a), Of(b), Of(y), count]);
    }

    public void Axpby(float alpha, DeviceBuffer x, float beta, DeviceBuffer y, long count)
    {
        CheckRange(x, 0, count);
        CheckRange(y, 0, count);
        Run("axpby", Grid.Elements(count), [alpha, Of(x), beta, Of(y), count]);
    }

    public void Affine(float alpha, DeviceBuffer x, float beta, DeviceBuffer y, long count)
    {
        CheckRange(x, 0, count);
        CheckRange(y, 0, count);
        Run("affine", Grid.Elements(count), [alpha, Of(x), beta, Of(y), count]);
    }

    public void FillUniform(DeviceBuffer destination, long count, ulong seed, ulong offset, float low, float high)
        => FillFromCounter("fill_uniform", destination, count, seed, offset, low, high - low);

    public void FillNormal(DeviceBuffer destination, long count, ulong seed, ulong offset, float mean, float std)
        => FillFromCounter("fill_normal", destination, count, seed, offset, mean, std);

    public void FillBernoulli(DeviceBuffer destination, long count, ulong seed, ulong offset, float keepProbability, float scale)
        => FillFromCounter("fill_bernoulli", destination, count, seed, offset, keepProbability, scale);

    void FillFromCounter(string kernel, DeviceBuffer destination, long count, ulong seed, ulong offset, float a, float b)
    {
        CheckRange(destination, 0, count);
        Run(kernel, Grid.Elements(count), [Of(destination), count, seed, offset, a, b]);
    }
}
