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
        double extraPercent = 100 * (PaddedImages.ColumnsPerOutput(g) - 1);
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
        int columnsPerGroup = padded.ColumnsPerGroup, taps = g.CinPerGroup * g.KH * g.KW;
        int groups = GemmConv.ImagesPerChunk(columnsPerGroup, padded.Groups(g.N), GemmConv.ImageOperandColumns);
        int chunk = groups * padded.Images;
        GemmConv.SumWeightGradientOverRanges(backend, g, chunk, dw, accumulate, (target, acc, start, end, threads) =>
        {
            using var xp = backend.Allocate(padded.Length(groups));
            using var dyWide = backend.Allocate((long)g.Cout * groups * columnsPerGroup);
            long* offsets = stackalloc long[taps];
            TapOffsets(padded, 0, taps, offsets);
            for (int n0 = start; n0 < end; n0 += chunk)
            {
                int images = Math.Min(chunk, end - n0), cols = padded.Groups(images) * columnsPerGroup;
                float beta = n0 == start && !acc ? 0f : 1f;
                padded.Fill(x, n0, images, CpuBackend.P(xp));
                padded.Widen(dy, n0, images, g.Cout, CpuBackend.P(dyWide));
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    var rows = new ShiftedRows(padded, CpuBackend.P(xp) + grp * g.CinPerGroup * padded.Plane, offsets);
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
        int columnsPerGroup = padded.ColumnsPerGroup, taps = g.CinPerGroup * g.KH * g.KW;
        int groups = GemmConv.ImagesPerChunk(columnsPerGroup, padded.Groups(g.N), GemmConv.WeightOperandColumns);
        int chunk = groups * padded.Images;
        GemmConv.ForChunkRanges(g.N, chunk, CpuParallel.Threads, (part, start, end, threads) =>
        {
            using var xp = backend.Allocate(padded.Length(groups));
            using var wide = backend.Allocate((long)g.CoutPerGroup * groups * columnsPerGroup);
            long* offsets = stackalloc long[taps];
            TapOffsets(padded, 0, taps, offsets);
            for (int n0 = start; n0 < end; n0 += chunk)
            {
                int images = Math.Min(chunk, end - n0), cols = padded.Groups(images) * columnsPerGroup;
                padded.Fill(x, n0, images, CpuBackend.P(xp));
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    var columns = new ShiftedColumns(padded, CpuBackend.P(xp) + grp * g.CinPerGroup * padded.Plane, offsets);
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
        for (int t = 0; t < count; t++) offsets[t] = padded.TapOffset(p0 + t);
    }

    /// <summary>
    /// Images of an NCHW tensor copied into zero borders, <see cref="Images"/> of them side by side in
    /// one padded plane per channel, laid out [group][channel][Hp][Wp]: image s of a group starts at
    /// column PadW + s*Pitch, Pitch = W + PadW, so neighbours share one PadW-wide zero gap, and
    /// Wp = Images*Pitch + PadW. Column j of a group is output pixel (j / Wp, j % Wp) of the row's
    /// images: image (j % Wp) / Pitch at ow = (j % Wp) % Pitch when that is below OW; the other
    /// columns (Images*(Pitch - OW) + PadW per row) are computed and dropped. One image per plane
    /// drops 2*PadW columns per row; sixteen 7x7 maps drop 17 of 129 instead of 2 of 9 (29% -> 15%
    /// extra flops). A zero tail keeps the last slices' reads inside; missing images of a last,
    /// partial group are zero.
    /// </summary>
    internal readonly struct PaddedImages
    {
        // Images side by side: the largest power of two whose row stays within this many columns.
        const int TargetRow = 128;

        public readonly int Channels, H, W, PadH, PadW, KH, KW, OutH, OutW;
        public readonly int Images, Pitch, Wp;
        public readonly long Plane, GroupStride;

        public PaddedImages(in ConvGeometry g)
        {
            (Channels, H, W, PadH, PadW, KH, KW, OutH, OutW) = (g.CinPerGroup * g.Groups, g.H, g.W, g.PadH, g.PadW, g.KH, g.KW, g.OutH, g.OutW);
            Pitch = W + PadW;
            Images = GroupSize(g);
            Wp = Images * Pitch + PadW;
            Plane = (long)(H + 2 * PadH) * Wp;
            GroupStride = Channels * Plane;
        }

        /// <summary>Images per padded plane for this geometry: 1 for rows wider than half the target, at most N.</summary>
        public static int GroupSize(in ConvGeometry g)
        {
            int pitch = g.W + g.PadW, images = 1;
            while (images * 2 * pitch <= TargetRow && images * 2 <= g.N) images *= 2;
            return images;
        }

        /// <summary>Computed columns per kept column: Wp / (Images * OW).</summary>
        public static double ColumnsPerOutput(in ConvGeometry g)
        {
            int images = GroupSize(g);
            return (double)(images * (g.W + g.PadW) + g.PadW) / (images * g.OutW);
        }

        public int ColumnsPerGroup => OutH * Wp;

        public int Groups(int images) => (images + Images - 1) / Images;

        /// <summary>The last tap of the last column reads KW - 2 past the last plane; one padded row covers it.</summary>
        public long Length(int groups) => groups * GroupStride + Wp + Sgemm.NR;

        /// <summary>Offset of tap p = (c*KH + kh)*KW + kw from the start of its column's slice.</summary>
        public long TapOffset(int p)
        {
            int kernel = KH * KW, r = p % kernel;
            return p / kernel * Plane + (long)(r / KW) * Wp + r % KW;
        }

        /// <summary>dst = images [n0, n0 + images) of x in groups, zero borders, gaps, missing images and tail.</summary>
        public void Fill(float* x, int n0, int images, float* dst)
        {
            int groups = Groups(images);
            long planeIn = (long)H * W;
            for (int q = 0; q < groups; q++)
                for (int c = 0; c < Channels; c++)
                {
                    float* d = dst + q * GroupStride + c * Plane;
                    new Span<float>(d, PadH * Wp).Clear();
                    d += PadH * Wp;
                    for (int r = 0; r < H; r++, d += Wp)
                    {
                        RowOps.Zero(d, PadW);
                        for (int s = 0; s < Images; s++)
                        {
                            float* slot = d + PadW + s * Pitch;
                            int img = q * Images + s;
                            if (img < images) RowOps.Copy(slot, x + ((long)(n0 + img) * Channels + c) * planeIn + (long)r * W, W, 1);
                            else new Span<float>(slot, W).Clear();
                            RowOps.Zero(slot + W, PadW);
                        }
                    }
                    new Span<float>(d, PadH * Wp).Clear();
                }
            new Span<float>(dst + groups * GroupStride, Wp + Sgemm.NR).Clear();
        }

        /// <summary>
        /// dst[c, (group, oh, column)] = dy[n0 + img, c, oh, ow] at the column of (img, ow), zero in the
        /// dropped columns: dy in the GEMM's column order.
        /// </summary>
        public void Widen(float* dy, int n0, int images, int channels, float* dst)
        {
            int groups = Groups(images);
            long ld = (long)groups * ColumnsPerGroup, planeOut = (long)OutH * OutW;
            for (int c = 0; c < channels; c++)
                for (int q = 0; q < groups; q++)
                {
                    float* d = dst + c * ld + (long)q * ColumnsPerGroup;
                    for (int oh = 0; oh < OutH; oh++, d += Wp)
                    {
                        for (int s = 0; s < Images; s++)
                        {
                            int img = q * Images + s;
                            if (img < images) RowOps.Copy(d + s * Pitch, dy + ((long)(n0 + img) * channels + c) * planeOut + (long)oh * OutW, OutW, 1);
                            else RowOps.Zero(d + s * Pitch, OutW);
                            RowOps.Zero(d + s * Pitch + OutW, Pitch - OutW);
                        }
                        RowOps.Zero(d + Images * Pitch, Wp - Images * Pitch);
                    }
                }
        }

        /// <summary>y[n0 + img, c0 + c, oh, ow] (+)= wide[c, (group, oh, column)] at the kept columns of a GEMM result.</summary>
        public void Narrow(float* wide, float* y, int n0, int images, int totalChannels, int c0, int channels, bool accumulate)
        {
            long ld = (long)Groups(images) * ColumnsPerGroup, planeOut = (long)OutH * OutW;
            for (int img = 0; img < images; img++)
            {
                int q = img / Images, s = img % Images;
                for (int c = 0; c < channels; c++)
                {
                    float* src = wide + c * ld + (long)q * ColumnsPerGroup + s * Pitch;
                    float* d = y + ((long)(n0 + img) * totalChannels + c0 + c) * planeOut;
                    for (int oh = 0; oh < OutH; oh++, d += OutW, src += Wp)
                    {
                        if (accumulate) RowOps.MulAdd(d, 1, 1f, src, 1, OutW);
                        else RowOps.Copy(d, src, OutW, 1);
                    }
                }
            }
        }
    }

    /// <summary>op(B) = the shifted im2col matrix (rows = taps, columns = (image, oh*Wp + ow)), packed for the forward GEMM.</summary>
    /// <remarks><paramref name="tapOffsets"/>: <see cref="TapOffsets"/> of every tap, computed once per convolution (three divisions per tap).</remarks>
    readonly struct ShiftedColumns(PaddedImages padded, float* xp, long* tapOffsets) : Sgemm.IPackB
    {
        public void Pack(int pc, int jc, int kc, int nc, float* dst)
        {
            const int NR = Sgemm.NR;
            int perGroup = padded.ColumnsPerGroup;
            long* offsets = tapOffsets + pc;
            // A sliver crossing group boundaries is a few runs, each within one group.
            var runs = stackalloc (int Column, long Start, int Length)[NR];
            for (int s0 = 0; s0 < nc; s0 += NR)
            {
                int nr = Math.Min(NR, nc - s0), j = jc + s0;
                float* sliver = dst + (long)s0 * kc;
                int grp = j / perGroup, jl = j % perGroup;
                if (nr == NR && jl + NR <= perGroup)
                {
                    float* src = xp + grp * padded.GroupStride + jl;
                    for (int t = 0; t < kc; t++)
                    {
                        float* s = src + offsets[t];
                        Vector256.Store(Vector256.Load(s), sliver + t * NR);
                        Vector256.Store(Vector256.Load(s + 8), sliver + t * NR + 8);
                    }
                    continue;
                }
                int count = 0;
                for (int col = 0; col < nr; grp++, jl = 0)
                {
                    int length = Math.Min(nr - col, perGroup - jl);
                    runs[count++] = (col, grp * padded.GroupStride + jl, length);
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
    readonly struct ShiftedRows(PaddedImages padded, float* xp, long* tapOffsets) : Sgemm.IPackB
    {
        public void Pack(int pc, int jc, int kc, int nc, float* dst)
        {
            int perGroup = padded.ColumnsPerGroup;
            long* offsets = tapOffsets + jc;
            // The k range is split where it crosses into the next group; within a segment every tap's slice is contiguous.
            for (int k = 0; k < kc;)
            {
                int j = pc + k, grp = j / perGroup, jl = j % perGroup, length = Math.Min(kc - k, perGroup - jl);
                SgemmPack.TransposedSlices(xp + grp * padded.GroupStride + jl, offsets, k, length, kc, nc, dst);
                k += length;
            }
        }
    }
}
