using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Kernels;

// Reductions and per-channel broadcasts over NCHW: kernels/reduce.cl (two deterministic stages).
public abstract partial class KernelBackend
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
        if (count > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(count), $"sum: {count} elements exceed the {Name} backend's 2^31 limit");
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
    /// result[offset + c] (+)= the sum over n and hw of term(a, b, mean[c]) at [n, c, hw], divided by
    /// <paramref name="divisor"/>.
    /// </summary>
    void ChannelReduce(Term term, DeviceBuffer a, DeviceBuffer? b, DeviceBuffer? mean, int n, int channels, int hw,
                       float divisor, DeviceBuffer result, long offset, bool accumulate)
    {
        using var partials = ChannelPartials(term, a, b, mean, n, channels, hw, out int chunks);
        Run("channel_finish", Grid.Elements(channels), [Of(partials), chunks, channels, divisor, Of(result), offset, accumulate]);
    }

    /// <summary>
    /// The first stage of a channel sum: <paramref name="chunks"/> partial sums per channel (acc_t, so two
    /// floats of room each). The chunk count depends only on N*HW and the chunks are added in order, so the
    /// rounding never depends on scheduling.
    /// </summary>
    DeviceBuffer ChannelPartials(Term term, DeviceBuffer a, DeviceBuffer? b, DeviceBuffer? mean, int n, int channels, int hw, out int chunks)
    {
        chunks = (int)Math.Clamp((long)n * hw / ChunkElements, 1, MaxChunks);
        var partials = Allocate(2L * channels * chunks);
        Run("channel_partials", Grid.Groups(chunks, channels), [(int)term, Of(a), Of(b), Of(mean), n, channels, hw, chunks, Of(partials)]);
        return partials;
    }
}
