using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// Stride-1 convolution as SGEMM over shifted slices of a zero-padded copy of the input, an
/// implicit im2col. In a padded plane of width Wp, tap (c, kh, kw) of output pixel (oh, ow) reads
/// element c*plane + kh*Wp + kw + (oh*Wp + ow). If the GEMM's columns run over oh*Wp + ow for every
/// ow in [0, Wp), computing Wp - OW extra columns per row that are then dropped, each row of the
/// im2col matrix is one contiguous slice of the padded copy: packing a 16-column sliver of B is two
/// vector copies per tap, where <see cref="Im2ColPackB"/> walks bounds-checked runs that cost more
/// than the multiply-adds when Cout is small (16-64). The price is Wp/OW extra flops, so only maps
/// whose padding is narrow next to their width take this path.
///   forward          y   = W * shifted(xpad)
///   backward data    dx  = the same correlation of dy padded by K-1-pad with the flipped, transposed kernel
///   backward weight  dW += dy (rows widened to Wp, zero in the dropped columns) * shifted(xpad)^T
/// </summary>
internal static unsafe class ShiftedConv
{
    // When to take this path, from A/B runs of the quick table (single thread, the ResNet-18 CIFAR
    // and width-0.25 28x28 layer sets): the dropped columns cost (W + 2*pad)/W in flops, which pays
    // where packing dominated the old path, i.e. where the GEMM has few rows (<= 64), and elsewhere
    // only when the map is wide (<= 15% extra; 256->256 8x8 lost 12% at 25% extra). Backward data
    // keeps im2col's path for many input channels: its GEMM reads dy without packing it, and
    // col2im is one cheap pass (128->128 16x16: 74 vs 70 GFLOP/s). A GEMM thinner than a register
    // tile (a first layer's Cin of 1-3) also stays there (1->16 28x28 backward data: 27 vs 6.4).
    public static bool AppliesToForward(in ConvGeometry g) => Applies(g, g.CoutPerGroup);

    public static bool AppliesToBackwardData(in ConvGeometry g)
        => Applies(g, g.CinPerGroup) && g.CinPerGroup >= 4 && g.CinPerGroup <= FewRows;

    public static bool AppliesToBackwardWeight(in ConvGeometry g)
        => Applies(g, g.CoutPerGroup) && g.CinPerGroup * g.KH * g.KW >= Sgemm.NR;

    const int FewRows = 64;

    /// <summary>
    /// Stride 1, padding within the kernel's reach, not 1x1, output rows that are not whole 8-float
    /// vectors, and few enough dropped columns for a GEMM of <paramref name="rows"/> rows.
    /// </summary>
    // Where output rows are whole vectors (OW % 8 == 0), GemmConv's phase-split copy packs as
    // cheaply and drops no columns (single thread, CIFAR layers: 128->128 16x16 forward 71 -> 77,
    // backward weight 75 -> 85 GFLOP/s; 64->64 32x32 forward 75.5 -> 76.6, backward weight 73.5 -> 75.5,
    // backward data even). Rows of 28, 14 or 7 (the width-0.25 28x28 model) cut its slivers into
    // short runs with scalar tails, and this path stays faster there (16->16 28x28 forward 53 vs 41).
    static bool Applies(in ConvGeometry g, int rows)
    {
        if (g.StrideH != 1 || g.StrideW != 1 || g.PadH > g.KH - 1 || g.PadW > g.KW - 1 || (g.KH == 1 && g.KW == 1) || !Avx.IsSupported
            || g.OutW % 8 == 0)
            return false;
        int extraPercent = 200 * g.PadW / g.W;
        return extraPercent <= 15 || (rows <= FewRows && extraPercent <= 30);
    }

    public static void Forward(CpuBackend backend, ConvGeometry g, float* x, float* w, float* y)
        => Correlate(backend, g, x, w, y, accumulate: false);

    public static void BackwardData(CpuBackend backend, ConvGeometry g, float* dy, float* w, float* dx, bool accumulate)
    {
        // dx[c, i] = sum over co, k of w[co, c, k] dy[co, i + pad - k]: a stride-1 correlation of dy
        // padded by K-1-pad with w[co, c, K-1-k], whose output size is the input's.
        var dual = new ConvGeometry(g.N, g.Cout, g.OutH, g.OutW, g.Cin, g.KH, g.KW, 1, 1,
                                    g.KH - 1 - g.PadH, g.KW - 1 - g.PadW, g.Groups);
        using var flipped = backend.Allocate(g.WeightLength);
        FlipTransposed(g, w, CpuBackend.P(flipped));
        Correlate(backend, dual, dy, CpuBackend.P(flipped), dx, accumulate);
    }

    public static void BackwardWeight(CpuBackend backend, ConvGeometry g, float* x, float* dy, float* dw, bool accumulate)
    {
        var padded = new PaddedImages(g);
        int columnsPerImage = padded.ColumnsPerImage, taps = g.CinPerGroup * g.KH * g.KW;
        GemmConv.SumWeightGradientOverRanges(backend, g, dw, accumulate, (target, acc, start, end, threads) =>
        {
            int chunk = GemmConv.ImagesPerChunk(columnsPerImage, end - start, GemmConv.ImageOperandColumns);
            using var xp = backend.Allocate(padded.Length(chunk));
            using var dyWide = backend.Allocate((long)g.Cout * chunk * columnsPerImage);
            for (int n0 = start; n0 < end; n0 += chunk)
            {
                int images = Math.Min(chunk, end - n0), cols = images * columnsPerImage;
                float beta = n0 == start && !acc ? 0f : 1f;
                padded.Fill(x, n0, images, CpuBackend.P(xp));
                padded.Widen(dy, n0, images, g.Cout, CpuBackend.P(dyWide));
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    var rows = new ShiftedRows(padded, CpuBackend.P(xp) + grp * g.CinPerGroup * padded.Plane);
                    Sgemm.Multiply(false, g.CoutPerGroup, taps, cols, 1f, CpuBackend.P(dyWide) + (long)grp * g.CoutPerGroup * cols, cols,
                                   rows, beta, target + (long)grp * g.CoutPerGroup * taps, taps, threads);
                }
            }
        });
    }

    /// <summary>y (+)= the stride-1 correlation of x with w, per group, over one image range per thread.</summary>
    static void Correlate(CpuBackend backend, ConvGeometry g, float* x, float* w, float* y, bool accumulate)
    {
        var padded = new PaddedImages(g);
        int columnsPerImage = padded.ColumnsPerImage, taps = g.CinPerGroup * g.KH * g.KW;
        GemmConv.ForImageRanges(g, (part, start, end, threads) =>
        {
            int chunk = GemmConv.ImagesPerChunk(columnsPerImage, end - start, GemmConv.WeightOperandColumns);
            using var xp = backend.Allocate(padded.Length(chunk));
            using var wide = backend.Allocate((long)g.CoutPerGroup * chunk * columnsPerImage);
            for (int n0 = start; n0 < end; n0 += chunk)
            {
                int images = Math.Min(chunk, end - n0), cols = images * columnsPerImage;
                padded.Fill(x, n0, images, CpuBackend.P(xp));
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    var columns = new ShiftedColumns(padded, CpuBackend.P(xp) + grp * g.CinPerGroup * padded.Plane);
                    Sgemm.Multiply(false, g.CoutPerGroup, cols, taps, 1f, w + (long)grp * g.CoutPerGroup * taps, taps,
                                   columns, 0f, CpuBackend.P(wide), cols, threads);
                    padded.Narrow(CpuBackend.P(wide), y, n0, images, g.Cout, grp * g.CoutPerGroup, g.CoutPerGroup, accumulate);
                }
            }
        });
    }

    /// <summary>wf[grp, ci, co, kh, kw] = w[grp, co, ci, KH-1-kh, KW-1-kw]: the kernel of the backward-data correlation.</summary>
    static void FlipTransposed(in ConvGeometry g, float* w, float* wf)
    {
        int kernel = g.KH * g.KW;
        for (int grp = 0; grp < g.Groups; grp++)
            for (int co = 0; co < g.CoutPerGroup; co++)
                for (int ci = 0; ci < g.CinPerGroup; ci++)
                {
                    float* src = w + ((long)(grp * g.CoutPerGroup + co) * g.CinPerGroup + ci) * kernel;
                    float* dst = wf + ((long)(grp * g.CinPerGroup + ci) * g.CoutPerGroup + co) * kernel;
                    for (int t = 0; t < kernel; t++) dst[t] = src[kernel - 1 - t];
                }
    }

    /// <summary>Offsets of taps [p0, p0 + count) from the slice start of a column: c*plane + kh*Wp + kw.</summary>
    static void TapOffsets(in PaddedImages padded, int p0, int count, long* offsets)
    {
        for (int t = 0; t < count; t++) offsets[t] = padded.Copy.TapOffset(p0 + t);
    }

    /// <summary>
    /// Images of an NCHW tensor copied into zero borders, laid out [image][channel][Hp][Wp] (the
    /// stride-1 case of <see cref="PhaseSplitImages"/>), with a zero tail so the last slices' reads
    /// stay inside. Column j of image i is output pixel (j / Wp, j % Wp); columns with j % Wp &gt;= OW
    /// are computed and dropped.
    /// </summary>
    readonly struct PaddedImages
    {
        public readonly PhaseSplitImages Copy;
        public readonly int Wp, OutH, OutW;
        public readonly long Plane, ImageStride;

        public PaddedImages(in ConvGeometry g)
        {
            Copy = new PhaseSplitImages(g);
            Wp = Copy.RowStride;
            (OutH, OutW, Plane, ImageStride) = (g.OutH, g.OutW, Copy.Plane, Copy.ImageStride);
        }

        public int ColumnsPerImage => OutH * Wp;

        /// <summary>The last tap of the last column reads KW - 2 past the last plane; one padded row covers it.</summary>
        public long Length(int images) => images * ImageStride + Wp + Sgemm.NR;

        public void Fill(float* x, int n0, int images, float* dst)
        {
            Copy.Fill(x, n0, images, dst);
            new Span<float>(dst + images * ImageStride, Wp + Sgemm.NR).Clear();
        }

        /// <summary>dst[c, (img, oh, ow)] = dy[n0 + img, c, oh, ow], zero for ow in [OW, Wp): dy in the GEMM's column order.</summary>
        public void Widen(float* dy, int n0, int images, int channels, float* dst)
        {
            long ld = (long)images * ColumnsPerImage, planeOut = (long)OutH * OutW;
            for (int img = 0; img < images; img++)
                for (int c = 0; c < channels; c++)
                {
                    float* src = dy + ((long)(n0 + img) * channels + c) * planeOut;
                    float* d = dst + c * ld + (long)img * ColumnsPerImage;
                    for (int oh = 0; oh < OutH; oh++, d += Wp, src += OutW)
                    {
                        RowOps.Copy(d, src, OutW, 1);
                        RowOps.Zero(d + OutW, Wp - OutW);
                    }
                }
        }

        /// <summary>y[n0 + img, c0 + c, oh, ow] (+)= wide[c, (img, oh, ow)] for ow &lt; OW: the kept columns of a GEMM result.</summary>
        public void Narrow(float* wide, float* y, int n0, int images, int totalChannels, int c0, int channels, bool accumulate)
        {
            long ld = (long)images * ColumnsPerImage, planeOut = (long)OutH * OutW;
            for (int img = 0; img < images; img++)
                for (int c = 0; c < channels; c++)
                {
                    float* src = wide + c * ld + (long)img * ColumnsPerImage;
                    float* d = y + ((long)(n0 + img) * totalChannels + c0 + c) * planeOut;
                    for (int oh = 0; oh < OutH; oh++, d += OutW, src += Wp)
                    {
                        if (accumulate) RowOps.MulAdd(d, 1, 1f, src, 1, OutW);
                        else RowOps.Copy(d, src, OutW, 1);
                    }
                }
        }
    }

    /// <summary>op(B) = the shifted im2col matrix (rows = taps, columns = (image, oh*Wp + ow)), packed for the forward GEMM.</summary>
    readonly struct ShiftedColumns(PaddedImages padded, float* xp) : Sgemm.IPackB
    {
        public void Pack(int pc, int jc, int kc, int nc, float* dst)
        {
            const int NR = Sgemm.NR;
            int perImage = padded.ColumnsPerImage;
            long* offsets = stackalloc long[kc];
            TapOffsets(padded, pc, kc, offsets);
            // A sliver crossing image boundaries is a few runs, each within one image.
            var runs = stackalloc (int Column, long Start, int Length)[NR];
            for (int s0 = 0; s0 < nc; s0 += NR)
            {
                int nr = Math.Min(NR, nc - s0), j = jc + s0;
                float* sliver = dst + (long)s0 * kc;
                int img = j / perImage, jl = j % perImage;
                if (nr == NR && jl + NR <= perImage)
                {
                    float* src = xp + img * padded.ImageStride + jl;
                    for (int t = 0; t < kc; t++)
                    {
                        float* s = src + offsets[t];
                        Vector256.Store(Vector256.Load(s), sliver + t * NR);
                        Vector256.Store(Vector256.Load(s + 8), sliver + t * NR + 8);
                    }
                    continue;
                }
                int count = 0;
                for (int col = 0; col < nr; img++, jl = 0)
                {
                    int length = Math.Min(nr - col, perImage - jl);
                    runs[count++] = (col, img * padded.ImageStride + jl, length);
                    col += length;
                }
                for (int t = 0; t < kc; t++)
                {
                    float* row = sliver + t * NR;
                    for (int r = 0; r < count; r++) RowOps.Copy(row + runs[r].Column, xp + runs[r].Start + offsets[t], runs[r].Length, 1);
                    RowOps.Zero(row + nr, NR - nr);
                }
            }
        }
    }

    /// <summary>op(B) = the transpose of <see cref="ShiftedColumns"/> (rows = (image, oh*Wp + ow), columns = taps), for backward weight.</summary>
    readonly struct ShiftedRows(PaddedImages padded, float* xp) : Sgemm.IPackB
    {
        public void Pack(int pc, int jc, int kc, int nc, float* dst)
        {
            int perImage = padded.ColumnsPerImage;
            long* offsets = stackalloc long[nc];
            TapOffsets(padded, jc, nc, offsets);
            // The k range is split where it crosses into the next image; within a segment every tap's slice is contiguous.
            for (int k = 0; k < kc;)
            {
                int j = pc + k, img = j / perImage, jl = j % perImage, length = Math.Min(kc - k, perImage - jl);
                SgemmPack.TransposedSlices(xp + img * padded.ImageStride + jl, offsets, k, length, kc, nc, dst);
                k += length;
            }
        }
    }
}
