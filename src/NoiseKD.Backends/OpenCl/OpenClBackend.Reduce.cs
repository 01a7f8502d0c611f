using static NoiseKD.Backends.BackendChecks;
using static NoiseKD.Backends.OpenCl.KernelArg;

namespace NoiseKD.Backends.OpenCl;

// Reductions and per-channel broadcasts over NCHW: kernels/reduce.cl (two deterministic stages).
public sealed partial class OpenClBackend
{
    /// <summary>What channel_partials sums (TERM_* in kernels/reduce.cl).</summary>
    enum Term { Plain = 0, SquaredDeviation = 1, CenteredProduct = 2 }

    /// <summary>Elements one work-group of channel_partials sums, at least; more chunks only up to <see cref="MaxChunks"/>.</summary>
    const long ChunkElements = 16384;
    const int MaxChunks = 64;

    public void Sum(DeviceBuffer x, long count, DeviceBuffer result, long resultOffset)
    {
        CheckRange(x, 0, count);
        CheckRange(result, resultOffset, 1);
        if (count > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(count), $"sum: {count} elements exceed the OpenCL backend's 2^31 limit");
        ChannelReduce(Term.Plain, x, null, null, 1, 1, (int)count, 1f, result, resultOffset, accumulate: false);
    }

    public void ChannelSum(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer result, bool accumulate)
    {
        CheckRange(x, 0, (long)n * channels * hw);
        CheckRange(result, 0, channels);
        ChannelReduce(Term.Plain, x, null, null, n, channels, hw, 1f, result, 0, accumulate);
    }

    public void AddChannelBias(DeviceBuffer y, DeviceBuffer bias, int n, int channels, int hw)
    {
        long total = (long)n * channels * hw;
        CheckRange(y, 0, total);
        CheckRange(bias, 0, channels);
        Run("add_channel_bias", Grid.Elements(total), [Of(y), Of(bias), channels, hw, total]);
    }

    /// <summary>
    /// result[offset + c] (+)= scale * the sum over n and hw of term(a, b, mean[c]) at [n, c, hw]. Each
    /// channel is cut into a number of chunks that depends only on N*HW, and the chunks are added in
    /// order, so the rounding never depends on scheduling.
    /// </summary>
    void ChannelReduce(Term term, DeviceBuffer a, DeviceBuffer? b, DeviceBuffer? mean, int n, int channels, int hw,
                       float scale, DeviceBuffer result, long offset, bool accumulate)
    {
        long count = (long)n * hw;
        int chunks = (int)Math.Clamp(count / ChunkElements, 1, MaxChunks);
        using var partials = Allocate((long)channels * chunks);
        Run("channel_partials", Grid.Groups(chunks, channels), [(int)term, Of(a), Of(b), Of(mean), n, channels, hw, chunks, Of(partials)]);
        Run("channel_finish", Grid.Elements(channels), [Of(partials), chunks, channels, scale, Of(result), offset, accumulate]);
    }
}
