using NoiseKD.Kernels;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Ilgpu;

// Reductions and per-channel broadcasts over NCHW: kernels/Reduce.cs, two deterministic stages.
public sealed partial class IlgpuBackend
{
    /// <summary>Elements one group of ChannelMoments sums, at least; more chunks only up to <see cref="MaxChunks"/>.</summary>
    const long ChunkElements = 16384;
    const int MaxChunks = 64;

    public void Sum(DeviceBuffer x, long count, DeviceBuffer result, long resultOffset)
    {
        CheckRange(x, 0, count);
        CheckRange(result, resultOffset, 1);
        using var partials = Moments(x, x, null, 1, 1, Count(count), ShiftFrom.None, out int chunks);
        Kernels.Reduce.FinishSums(Elements(1), Doubles(partials), V(result).SubView(resultOffset, 1), new FinishParams(1, chunks, 1f, false));
    }

    public void ChannelSum(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer result, bool accumulate)
    {
        CheckRange(x, 0, (long)n * channels * hw);
        CheckRange(result, 0, channels);
        if (channels == 0) return;
        using var partials = Moments(x, x, null, n, channels, hw, ShiftFrom.None, out int chunks);
        Kernels.Reduce.FinishSums(Elements(channels), Doubles(partials), V(result), new FinishParams(channels, chunks, 1f, accumulate));
    }

    public void AddChannelBias(DeviceBuffer y, DeviceBuffer bias, int n, int channels, int hw)
    {
        long total = (long)n * channels * hw;
        CheckRange(y, 0, total);
        CheckRange(bias, 0, channels);
        if (total == 0) return;
        Count(total);
        Kernels.Reduce.AddChannelBias(Elements(total), V(y), V(bias), new MomentParams(n, channels, hw, 1, ShiftFrom.None));
    }

    /// <summary>
    /// The first stage of every channel sum: <paramref name="chunks"/> pairs of double partial sums per channel
    /// (see <see cref="Reduce.ChannelMoments"/>), in a float buffer of four floats per pair. The chunk count
    /// depends only on N*HW and the chunks are added in order, so the rounding never depends on scheduling.
    /// </summary>
    DeviceBuffer Moments(DeviceBuffer a, DeviceBuffer b, DeviceBuffer? shift, int n, int channels, int hw, int shiftFrom, out int chunks)
    {
        Count((long)n * channels * hw);
        chunks = (int)Math.Clamp((long)n * hw / ChunkElements, 1, MaxChunks);
        var partials = Allocate(4L * channels * chunks);
        Kernels.Reduce.ChannelMoments(Groups((long)channels * chunks), V(a), V(b), Optional(shift), Doubles(partials),
                                      new MomentParams(n, channels, hw, chunks, shiftFrom));
        return partials;
    }
}
