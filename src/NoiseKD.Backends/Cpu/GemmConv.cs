using System.Runtime.Intrinsics.X86;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// Convolution as SGEMM over im2col columns (see <see cref="Im2Col"/>), per group, on chunks of images:
///   forward          y_g      = W_g   * col            (CoutG x cols; col packed directly)
///   backward data    dcol     = W_g^T * dy_g, dx += col2im(dcol)
///   backward weight  dW_g    += dy_g  * col^T
/// KxK layers read col from a padded, phase-split copy of the input (<see cref="PhaseSplitImages"/>,
/// <see cref="PhaseSplitColumns"/>, <see cref="PhaseSplitRows"/>), where each of its rows is a vector
/// copy; 1x1 layers (and CPUs without AVX2) read x itself (<see cref="Im2ColPackB"/>, <see cref="Im2Col"/>).
/// Images are taken a few at a time so a small feature map still gives the GEMM enough columns
/// (<see cref="ImagesPerChunk"/>, from the whole batch); the chunks are split into one contiguous range per
/// thread, each running single-threaded GEMMs on its own scratch (a single chunk instead hands every thread to
/// the GEMM). Nothing a thread computes depends on the thread count, so results are the same bits with any
/// --threads (the weight gradient's ranges, whose partial sums are added, are fixed by the geometry).
/// </summary>
internal static unsafe class GemmConv
{
    // Forward and backward data multiply by the weights, which SGEMM packs once per call: with 256
    // columns per call that packing cost 5-10% on 16x16 and smaller maps. At >= 1024 columns (single
    // thread, CIFAR layers at batch 32): forward 128->128 16x16 76.6 -> 81.6 GFLOP/s, 256->256 8x8
    // 78.3 -> 82.3; backward data 71.3 -> 85.3 and 73.3 -> 85.6. Backward weight packs dy instead,
    // which changes with every chunk, and gained nothing (84.1 -> 83.8, 89.3 -> 89.4): it keeps 256.
    internal const int WeightOperandColumns = 1024, ImageOperandColumns = 256;

    public static void Forward(CpuBackend backend, ConvGeometry g, float* x, float* w, float* y)
    {
        int chunk = ImagesPerChunk(g, g.N, WeightOperandColumns);
        ForChunkRanges(g.N, chunk, CpuParallel.Threads, (part, start, end, threads) => ForwardRange(backend, g, x, w, y, start, end, chunk, threads));
    }

    public static void BackwardData(CpuBackend backend, ConvGeometry g, float* dy, float* w, float* dx, bool accumulate)
    {
        int chunk = ImagesPerChunk(g, g.N, WeightOperandColumns);
        ForChunkRanges(g.N, chunk, CpuParallel.Threads, (part, start, end, threads) => BackwardDataRange(backend, g, dy, w, dx, accumulate, start, end, chunk, threads));
    }

    public static void BackwardWeight(CpuBackend backend, ConvGeometry g, float* x, float* dy, float* dw, bool accumulate)
    {
        int chunk = ImagesPerChunk(g, g.N, ImageOperandColumns);
        SumWeightGradientOverRanges(backend, g, chunk, dw, accumulate,
                                    (target, acc, start, end, threads) => BackwardWeightRange(backend, g, x, dy, target, acc, start, end, chunk, threads));
    }

    /// <summary>Computes dW into <c>target</c> (added to it when <c>accumulate</c>) from images [start, end).</summary>
    internal delegate void WeightRangeBody(float* target, bool accumulate, int start, int end, int gemmThreads);

    /// <summary>
    /// Runs a backward-weight pass per image range (whole chunks of <paramref name="chunk"/> images): each range
    /// sums its images into its own copy of dW (range 0 straight into dw), then the copies are added in range
    /// order: race-free without locks, no thread waits on another mid-pass, and the ranges, hence every partial
    /// sum and the order they are added in, depend on the geometry alone (<see cref="ReductionRanges"/>).
    /// </summary>
    internal static void SumWeightGradientOverRanges(CpuBackend backend, ConvGeometry g, int chunk, float* dw, bool accumulate, WeightRangeBody body)
    {
        int ranges = ReductionRanges(g, chunk);
        var partials = new DeviceBuffer[ranges - 1];
        for (int i = 0; i < partials.Length; i++) partials[i] = backend.Allocate(g.WeightLength);
        try
        {
            ForChunkRanges(g.N, chunk, ranges, (part, start, end, threads) =>
            {
                float* target = part == 0 ? dw : CpuBackend.P(partials[part - 1]);
                body(target, part == 0 && accumulate, start, end, threads);
            });
            foreach (var partial in partials)
            {
                float* src = CpuBackend.P(partial);
                CpuParallel.ForRange(g.WeightLength, 1, (s, e) => RowOps.MulAdd(dw + s, 1, 1f, src + s, 1, checked((int)(e - s))));
            }
        }
        finally
        {
            foreach (var partial in partials) partial.Dispose();
        }
    }

    /// <summary>True when the column matrix of one image is the image itself (1x1, stride 1, no padding).</summary>
    static bool IsPointwise(in ConvGeometry g)
        => g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadH == 0 && g.PadW == 0;

    // When to read a padded, phase-split copy (PhaseSplitImages) instead of x itself,
    // from A/B runs of the quick table (single thread, ResNet-18 CIFAR layers): packing and im2col
    // pay for the copy in every KxK layer (forward 53.6 -> 73.2 GFLOP/s on 64->128 32x32 s2, 70 -> 77
    // on 512->512 4x4; backward weight 60 -> 75 and 81 -> 85), but a 1x1 stride-2 layer would copy
    // four times the pixels it reads (forward 68.7 -> 56 on 256->512 8x8). Backward data pays for
    // clearing and draining the padded copy only with rows of >= 8 outputs (64->128 s2 62 -> 71,
    // 256->256 8x8 68 -> 74, but 256->512 8x8 s2 73 -> 69, onto 4x4 outputs).
    static bool PhaseSplit(in ConvGeometry g, bool backwardData)
        => g.KH * g.KW > 1 && (!backwardData || g.OutW >= 8) && Avx2.IsSupported;

    static int Taps(in ConvGeometry g) => g.CinPerGroup * g.KH * g.KW;

    // A weight gradient's image ranges hold at least this many output columns each (the GEMMs' k), at most MaxReductionRanges ranges.
    internal const int ColumnsPerReductionRange = 4096, MaxReductionRanges = 16;

    /// <summary>
    /// How many ranges of whole chunks a weight gradient is summed over: a power of two (so 2, 4, 8 or 16 workers
    /// share them evenly) that depends on the geometry alone, never on the worker count, so the partial sums, and
    /// the order they are added in, are the same with 1 thread or 64: a run gives the same bits whatever --threads is.
    /// </summary>
    internal static int ReductionRanges(in ConvGeometry g, int chunk)
    {
        long columns = (long)g.N * g.OutH * g.OutW;
        int chunks = (g.N + chunk - 1) / chunk, ranges = 1;
        while (ranges * 2 <= MaxReductionRanges && ranges * 2 <= chunks && columns / (ranges * 2) >= ColumnsPerReductionRange) ranges *= 2;
        return ranges;
    }

    static int ImagesPerChunk(in ConvGeometry g, int images, int targetColumns) => ImagesPerChunk(g.OutH * g.OutW, images, targetColumns);

    /// <summary>Enough images that one GEMM gets at least <paramref name="targetColumns"/> columns of <paramref name="columnsPerImage"/>.</summary>
    internal static int ImagesPerChunk(int columnsPerImage, int images, int targetColumns)
        => Math.Clamp((targetColumns + columnsPerImage - 1) / columnsPerImage, 1, images);

    internal delegate void RangeBody(int part, int start, int end, int gemmThreads);

    /// <summary>
    /// body(part, start, end, gemmThreads) over at most <paramref name="ranges"/> contiguous ranges of whole chunks of
    /// <paramref name="chunk"/> images (chunks counted from image 0; the last may be short), at most Threads at once;
    /// each range's GEMMs get the threads left over (all of them for a single range). The chunks, and so every GEMM's
    /// shape, do not depend on the range count: only which thread runs a chunk does.
    /// </summary>
    internal static void ForChunkRanges(int n, int chunk, int ranges, RangeBody body)
    {
        int chunks = (n + chunk - 1) / chunk, threads = CpuParallel.Threads;
        ranges = Math.Clamp(ranges, 1, chunks);
        if (ranges == 1)
        {
            body(0, 0, n, threads);
            return;
        }
        int Start(int part) => (int)Math.Min(n, (long)chunks * part / ranges * chunk);
        int gemmThreads = Math.Max(1, threads / ranges);
        if (threads == 1)
        {
            for (int part = 0; part < ranges; part++) body(part, Start(part), Start(part + 1), 1);
            return;
        }
        Parallel.For(0, ranges, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(ranges, threads) },
                     part => body(part, Start(part), Start(part + 1), gemmThreads));
    }

    static void ForwardRange(CpuBackend backend, in ConvGeometry g, float* x, float* w, float* y, int start, int end, int chunk, int threads)
    {
        int outHW = g.OutH * g.OutW, taps = Taps(g);
        bool direct = chunk == 1 && IsPointwise(g), split = !direct && PhaseSplit(g, backwardData: false);
        var layout = new PhaseSplitImages(g);
        using var xp = backend.Allocate(split ? layout.Length(chunk) : 0);
        using var outCat = backend.Allocate(chunk == 1 ? 0 : (long)g.CoutPerGroup * chunk * outHW);
        for (int n0 = start; n0 < end; n0 += chunk)
        {
            int images = Math.Min(chunk, end - n0), cols = images * outHW;
            if (split) layout.Fill(x, n0, images, CpuBackend.P(xp));
            for (int grp = 0; grp < g.Groups; grp++)
            {
                float* wg = w + (long)grp * g.CoutPerGroup * taps;
                // One image writes its NCHW slice directly; several go through a [CoutG, cols] scratch.
                float* c = images == 1 ? y + ((long)n0 * g.Cout + grp * g.CoutPerGroup) * outHW : CpuBackend.P(outCat);
                int ldc = images == 1 ? outHW : cols;
                if (direct)
                {
                    float* xg = x + ((long)n0 * g.Cin + grp * g.CinPerGroup) * outHW;
                    Sgemm.Multiply(false, false, g.CoutPerGroup, cols, taps, 1f, wg, taps, xg, cols, 0f, c, ldc, threads);
                }
                else if (split)
                {
                    var columns = new PhaseSplitColumns(layout, CpuBackend.P(xp) + grp * g.CinPerGroup * layout.Plane);
                    Sgemm.Multiply(false, g.CoutPerGroup, cols, taps, 1f, wg, taps, columns, 0f, c, ldc, threads);
                }
                else
                {
                    var columns = new Im2ColPackB(g, x, n0, grp * g.CinPerGroup);
                    Sgemm.Multiply(false, g.CoutPerGroup, cols, taps, 1f, wg, taps, columns, 0f, c, ldc, threads);
                }
                if (images > 1) ChannelMajor.Scatter(c, y, n0, images, g.Cout, grp * g.CoutPerGroup, g.CoutPerGroup, outHW);
            }
        }
    }

    static void BackwardDataRange(CpuBackend backend, in ConvGeometry g, float* dy, float* w, float* dx, bool accumulate,
                                  int start, int end, int chunk, int threads)
    {
        int outHW = g.OutH * g.OutW, inHW = g.H * g.W, taps = Taps(g);
        bool direct = chunk == 1 && IsPointwise(g), split = !direct && PhaseSplit(g, backwardData: true);
        var layout = new PhaseSplitImages(g);
        using var xp = backend.Allocate(split ? layout.Length(chunk) : 0);
        using var col = backend.Allocate(direct ? 0 : (long)taps * chunk * outHW);
        using var dyCat = backend.Allocate(chunk == 1 ? 0 : (long)g.CoutPerGroup * chunk * outHW);
        for (int n0 = start; n0 < end; n0 += chunk)
        {
            int images = Math.Min(chunk, end - n0), cols = images * outHW;
            if (split) new Span<float>(CpuBackend.P(xp), checked((int)layout.Length(images))).Clear();
            else if (!accumulate && !direct) new Span<float>(dx + (long)n0 * g.Cin * inHW, images * g.Cin * inHW).Clear();
            for (int grp = 0; grp < g.Groups; grp++)
            {
                float* dyg = DyColumns(g, dy, dyCat, n0, images, grp);
                float* wg = w + (long)grp * g.CoutPerGroup * taps;
                if (direct)
                {
                    float* dxg = dx + ((long)n0 * g.Cin + grp * g.CinPerGroup) * inHW;
                    Sgemm.Multiply(true, false, taps, cols, g.CoutPerGroup, 1f, wg, taps, dyg, cols, accumulate ? 1f : 0f, dxg, inHW, threads);
                }
                else
                {
                    float* c = CpuBackend.P(col);
                    Sgemm.Multiply(true, false, taps, cols, g.CoutPerGroup, 1f, wg, taps, dyg, cols, 0f, c, cols, threads);
                    if (split) layout.Accumulate(c, CpuBackend.P(xp) + grp * g.CinPerGroup * layout.Plane, images, g.CinPerGroup);
                    else Im2Col.Accumulate(g, c, dx, n0, images, grp * g.CinPerGroup);
                }
            }
            if (split) layout.Drain(CpuBackend.P(xp), dx, n0, images, accumulate);
        }
    }

    static void BackwardWeightRange(CpuBackend backend, in ConvGeometry g, float* x, float* dy, float* dw, bool accumulate,
                                    int start, int end, int chunk, int threads)
    {
        int outHW = g.OutH * g.OutW, taps = Taps(g);
        bool direct = chunk == 1 && IsPointwise(g), split = !direct && PhaseSplit(g, backwardData: false);
        // Rows of whole 8-float vectors pack straight from the copy through 8x8 register transposes
        // (64->64 32x32 73.5 -> 75.5 GFLOP/s, 128->128 16x16 75 -> 85); shorter rows would leave
        // only scalar tails, so they write im2col and let SGEMM transpose it (256->512 8x8 s2: 84 vs 81).
        bool packRows = split && g.OutW % 8 == 0;
        var layout = new PhaseSplitImages(g);
        using var xp = backend.Allocate(split ? layout.Length(chunk) : 0);
        using var col = backend.Allocate(direct || packRows ? 0 : (long)taps * chunk * outHW);
        using var dyCat = backend.Allocate(chunk == 1 ? 0 : (long)g.CoutPerGroup * chunk * outHW);
        for (int n0 = start; n0 < end; n0 += chunk)
        {
            int images = Math.Min(chunk, end - n0), cols = images * outHW;
            // The range's first chunk overwrites dW unless the caller asked to accumulate.
            float beta = n0 == start && !accumulate ? 0f : 1f;
            if (split) layout.Fill(x, n0, images, CpuBackend.P(xp));
            for (int grp = 0; grp < g.Groups; grp++)
            {
                float* dyg = DyColumns(g, dy, dyCat, n0, images, grp);
                float* dwg = dw + (long)grp * g.CoutPerGroup * taps;
                if (packRows)
                {
                    var rows = new PhaseSplitRows(layout, CpuBackend.P(xp) + grp * g.CinPerGroup * layout.Plane);
                    Sgemm.Multiply(false, g.CoutPerGroup, taps, cols, 1f, dyg, cols, rows, beta, dwg, taps, threads);
                    continue;
                }
                float* b = direct ? x + ((long)n0 * g.Cin + grp * g.CinPerGroup) * outHW : CpuBackend.P(col);
                if (split) layout.Pack(CpuBackend.P(xp) + grp * g.CinPerGroup * layout.Plane, images, g.CinPerGroup, b);
                else if (!direct) Im2Col.Pack(g, x, n0, images, grp * g.CinPerGroup, b);
                Sgemm.Multiply(false, true, g.CoutPerGroup, taps, cols, 1f, dyg, cols, b, cols, beta, dwg, taps, threads);
            }
        }
    }

    /// <summary>
    /// dy of group grp for images [n0, n0 + images) as a CoutG x (images*OHW) matrix with leading
    /// dimension images*OHW: dy itself for one image, else gathered into scratch.
    /// </summary>
    static float* DyColumns(in ConvGeometry g, float* dy, DeviceBuffer scratch, int n0, int images, int grp)
    {
        int outHW = g.OutH * g.OutW;
        if (images == 1) return dy + ((long)n0 * g.Cout + grp * g.CoutPerGroup) * outHW;
        float* cat = CpuBackend.P(scratch);
        ChannelMajor.Gather(dy, cat, n0, images, g.Cout, grp * g.CoutPerGroup, g.CoutPerGroup, outHW);
        return cat;
    }
}
