using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Cpu;

// Reductions and per-channel broadcasts over NCHW tensors, accumulated in double (DoubleSums).
public sealed unsafe partial class CpuBackend
{
    /// <summary>Elements per partial sum of <see cref="Sum"/>.</summary>
    const long SumBlock = 1 << 16;

    public void Sum(DeviceBuffer x, long count, DeviceBuffer result, long resultOffset)
    {
        CheckRange(x, 0, count);
        CheckRange(result, resultOffset, 1);
        float* px = P(x);
        // Fixed-size blocks rather than one per thread, so the order of the additions (and so the
        // rounding of the result) does not depend on the core count.
        int blocks = checked((int)((count + SumBlock - 1) / SumBlock));
        var partial = new double[blocks];
        CpuParallel.For(blocks, SumBlock, b =>
        {
            long start = b * SumBlock;
            partial[b] = DoubleSums.Sum(px + start, px + start, Math.Min(SumBlock, count - start), new Plain());
        });
        double total = 0;
        foreach (double s in partial) total += s;
        P(result)[resultOffset] = (float)total;
    }

    public void ChannelSum(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer result, bool accumulate)
    {
        CheckRange(x, 0, (long)n * channels * hw);
        CheckRange(result, 0, channels);
        float* px = P(x), pr = P(result);
        CpuParallel.For(channels, (double)n * hw, c =>
        {
            double sum = DoubleSums.OverChannel(px, px, n, channels, hw, c, new Plain());
            pr[c] = (float)(accumulate ? pr[c] + sum : sum);
        });
    }

    public void AddChannelBias(DeviceBuffer y, DeviceBuffer bias, int n, int channels, int hw)
    {
        CheckRange(y, 0, (long)n * channels * hw);
        CheckRange(bias, 0, channels);
        float* py = P(y), pb = P(bias);
        CpuParallel.For(n * channels, hw, plane =>
        {
            float* p = py + (long)plane * hw;
            MapSpan(p, p, 0, hw, new AffineFunction(1f, pb[plane % channels]));
        });
    }
}
