using ILGPU;

namespace NoiseKD.Kernels;

/// <summary>Where a channel's shift comes from in <see cref="Reduce.ChannelMoments"/>.</summary>
public static class ShiftFrom
{
    /// <summary>No shift (plain sums).</summary>
    public const int None = 0;
    /// <summary>a's first element of the channel, for both a and b (BatchNorm statistics: a = b = x).</summary>
    public const int FirstValue = 1;
    /// <summary>a is shifted by shift[c], b not (BatchNorm backward: a = x, shift = mean, b = dy).</summary>
    public const int View = 2;
}

/// <summary>[N, C, HW] tensors summed per channel in Chunks slices of the channel's N*HW elements.</summary>
public readonly struct MomentParams(int n, int channels, int hw, int chunks, int shiftFrom)
{
    public readonly int N = n, Channels = channels, Hw = hw, Chunks = chunks, ShiftFrom = shiftFrom;
}

/// <summary>Channels results: result[c] (+)= (sum of channel c's chunk partials, in chunk order) / Divisor.</summary>
public readonly struct FinishParams(int channels, int chunks, float divisor, bool accumulate)
{
    public readonly int Channels = channels, Chunks = chunks, Accumulate = accumulate ? 1 : 0;
    public readonly float Divisor = divisor;
}

/// <summary>
/// Per-channel sums over [N, C, HW] in two deterministic stages (IBackend: Sum, ChannelSum, and BatchNorm's
/// sums): <see cref="ChannelMoments"/> gives chunk g of channel c to group c*Chunks + g, which sums a fixed
/// slice of the channel in double in one pass; the host-side split depends only on the shape, and the
/// finishing kernels add a channel's chunks in order, so no result depends on timing (no atomics).
/// CPU reference: Cpu/DoubleSums.cs (ShiftedMoments), Cpu/CpuBackend.Reduce.cs.
/// </summary>
public static class Reduce
{
    /// <summary>
    /// partials[2*(c*Chunks + g)] = sum of (b - sb), partials[2*(c*Chunks + g) + 1] = sum of (a - sa)(b - sb)
    /// over slice g of channel c, in double: one pass gives BatchNorm's statistics (a = b = x, shifted by a
    /// value of the channel so E[(x-s)^2] - E[x-s]^2 does not cancel) or its backward sums (a = x, sa = mean,
    /// b = dy). Launch Channels*Chunks groups of a power-of-two size.
    /// </summary>
    public static void ChannelMoments(ArrayView<float> a, ArrayView<float> b, ArrayView<float> shift, ArrayView<double> partials, MomentParams p)
    {
        var scratch = SharedMemory.Allocate<double>(Loops.MaxGroup);
        int c = Grid.IdxX / p.Chunks, g = Grid.IdxX - c * p.Chunks;
        long count = (long)p.N * p.Hw;
        long start = count * g / p.Chunks, end = count * (g + 1) / p.Chunks;
        float sa = 0f, sb = 0f;
        if (p.ShiftFrom == ShiftFrom.FirstValue) sa = sb = a[(long)c * p.Hw];
        else if (p.ShiftFrom == ShiftFrom.View) sa = shift[c];
        double sum = 0, products = 0;
        for (long k = start + Group.IdxX; k < end; k += Group.DimX)
        {
            long image = k / p.Hw, pixel = k - image * p.Hw;
            long i = (image * p.Channels + c) * p.Hw + pixel;
            double db = (double)b[i] - sb;
            sum += db;
            products += ((double)a[i] - sa) * db;
        }
        sum = Loops.GroupSum(scratch, sum);
        products = Loops.GroupSum(scratch, products);
        if (Group.IdxX == 0)
        {
            partials[2 * Grid.IdxX] = sum;
            partials[2 * Grid.IdxX + 1] = products;
        }
    }

    /// <summary>The sums of channel c's chunks, in chunk order: (sum of b - sb, sum of products).</summary>
    public static double ChunkTotal(ArrayView<double> partials, int c, int chunks, int which)
    {
        double total = 0;
        for (int g = 0; g < chunks; g++) total += partials[2 * (c * chunks + g) + which];
        return total;
    }

    /// <summary>result[c] (+)= the channel's first sums / Divisor (Sum, ChannelSum).</summary>
    public static void FinishSums(ArrayView<double> partials, ArrayView<float> result, FinishParams p)
    {
        for (int c = Loops.First; c < p.Channels; c += Loops.Stride)
        {
            double sum = ChunkTotal(partials, c, p.Chunks, 0) / p.Divisor;
            result[c] = (float)(p.Accumulate != 0 ? result[c] + sum : sum);
        }
    }

    /// <summary>y[n, c, hw] += bias[c] (N, C, HW of <paramref name="p"/>).</summary>
    public static void AddChannelBias(ArrayView<float> y, ArrayView<float> bias, MomentParams p)
    {
        long total = (long)p.N * p.Channels * p.Hw;
        for (long i = Loops.First; i < total; i += Loops.Stride) y[i] += bias[(i / p.Hw) % p.Channels];
    }
}
