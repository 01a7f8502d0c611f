using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// A zero-padded copy of a chunk of NCHW images in which every padded row is split into its
/// StrideW phases (for stride 2: the even columns, then the odd ones). Padded column wp of row hp
/// lives at hp*RowStride + (wp % s)*Wq + wp / s, so input column ow*s + kw of tap kw is column
/// ow + kw/s of phase kw % s: for every tap (c, kh, kw) and output row (img, oh), the im2col row
/// over ow is one contiguous slice,
///   col[(c, kh, kw), (img, oh, ow)] = xp[img*ImageStride + oh*sH*RowStride + TapOffset(c, kh, kw) + ow].
/// Packing and col2im then run as vector copies without bounds tests, where <see cref="Im2Col"/>
/// and <see cref="Im2ColPackB"/> walk clipped, strided runs element by element. With stride 1 the
/// layout is the plain padded plane of <see cref="ShiftedConv"/>.
/// </summary>
internal readonly unsafe struct PhaseSplitImages
{
    public readonly int Channels, H, W, PadH, PadW, KH, KW, StrideH, StrideW, OutH, OutW;
    /// <summary>Phase width ceil((W + 2*PadW) / StrideW), one padded row (all phases), one padded plane, one image.</summary>
    public readonly int Wq, RowStride;
    public readonly long Plane, ImageStride;

    public PhaseSplitImages(in ConvGeometry g)
    {
        (Channels, H, W, PadH, PadW, KH, KW, StrideH, StrideW) = (g.Cin, g.H, g.W, g.PadH, g.PadW, g.KH, g.KW, g.StrideH, g.StrideW);
        (OutH, OutW) = (g.OutH, g.OutW);
        Wq = (W + 2 * PadW + StrideW - 1) / StrideW;
        RowStride = StrideW * Wq;
        Plane = (long)(H + 2 * PadH) * RowStride;
        ImageStride = Channels * Plane;
    }

    public long Length(int images) => images * ImageStride;

    /// <summary>Offset of tap p = (c*KH + kh)*KW + kw from the start of its output row's slice.</summary>
    public long TapOffset(int p)
    {
        int kernel = KH * KW, r = p % kernel, kw = r % KW;
        return p / kernel * Plane + (long)(r / KW) * RowStride + kw % StrideW * Wq + kw / StrideW;
    }

    /// <summary>Offset of output row (img, oh)'s slice: tap offsets are added to it.</summary>
    public long RowOffset(int img, int oh) => img * ImageStride + (long)oh * StrideH * RowStride;

    /// <summary>dst = the padded, phase-split copy of images [n0, n0 + images) of x.</summary>
    public void Fill(float* x, int n0, int images, float* dst)
    {
        long planeIn = (long)H * W;
        for (int img = 0; img < images; img++)
            for (int c = 0; c < Channels; c++)
            {
                float* src = x + ((long)(n0 + img) * Channels + c) * planeIn;
                float* d = dst + img * ImageStride + c * Plane;
                new Span<float>(d, PadH * RowStride).Clear();
                d += PadH * RowStride;
                for (int r = 0; r < H; r++, d += RowStride, src += W) SplitRow(src, d);
                new Span<float>(d, (int)(Plane - (long)(PadH + H) * RowStride)).Clear();
            }
    }

    /// <summary>dx[n0 + img] (+)= the interior of xp, the adjoint of <see cref="Fill"/> (padding is dropped).</summary>
    public void Drain(float* xp, float* dx, int n0, int images, bool accumulate)
    {
        long planeIn = (long)H * W;
        for (int img = 0; img < images; img++)
            for (int c = 0; c < Channels; c++)
            {
                float* s = xp + img * ImageStride + c * Plane + PadH * RowStride;
                float* d = dx + ((long)(n0 + img) * Channels + c) * planeIn;
                for (int r = 0; r < H; r++, s += RowStride, d += W)
                {
                    if (accumulate) MergeRow<Add>(s, d);
                    else MergeRow<Assign>(s, d);
                }
            }
    }

    /// <summary>col[tap, (img, oh, ow)] for the taps of channels [0, channels) of xp (a group's first channel).</summary>
    public void Pack(float* xp, int images, int channels, float* col) => Walk<PackSlice>(xp, images, channels, col);

    /// <summary>xp += col2im(col): the adjoint of <see cref="Pack"/>.</summary>
    public void Accumulate(float* col, float* xp, int images, int channels) => Walk<AccumulateSlice>(xp, images, channels, col);

    void Walk<TAction>(float* xp, int images, int channels, float* col) where TAction : struct, ISliceAction
    {
        int taps = channels * KH * KW;
        long ldcol = (long)images * OutH * OutW;
        for (int t = 0; t < taps; t++)
        {
            float* tap = xp + TapOffset(t), row = col + t * ldcol;
            for (int img = 0; img < images; img++)
                for (int oh = 0; oh < OutH; oh++, row += OutW) TAction.Run(row, tap + RowOffset(img, oh), OutW);
        }
    }

    /// <summary>
    /// One input row into its padded phases: phase r holds padded columns r, r + s, ...; columns
    /// outside the row (the padding, and the last phase's slots past the padded width) are zero.
    /// </summary>
    void SplitRow(float* src, float* dst)
    {
        if (StrideW == 1)
        {
            RowOps.Zero(dst, PadW);
            Copy(dst + PadW, src, W);
            RowOps.Zero(dst + PadW + W, Wq - PadW - W);
        }
        else if (StrideW == 2 && Avx2.IsSupported)
        {
            float* even = EvenColumns(dst), odd = OddColumns(dst);
            int evens = (W + 1) / 2, odds = W / 2;
            ZeroAround(dst + PadW % 2 * Wq, PadW / 2, evens);
            ZeroAround(dst + (1 - PadW % 2) * Wq, (PadW + 1) / 2, odds);
            int j = 0;
            for (; j <= odds - 8; j += 8)
            {
                Vector256<float> v0 = Avx.LoadVector256(src + 2 * j), v1 = Avx.LoadVector256(src + 2 * j + 8);
                Avx.Store(even + j, Avx2.Permute4x64(Avx.Shuffle(v0, v1, 0x88).AsDouble(), 0xD8).AsSingle());
                Avx.Store(odd + j, Avx2.Permute4x64(Avx.Shuffle(v0, v1, 0xDD).AsDouble(), 0xD8).AsSingle());
            }
            for (; j < odds; j++)
            {
                even[j] = src[2 * j];
                odd[j] = src[2 * j + 1];
            }
            if (evens > odds) even[j] = src[2 * j];
        }
        else
        {
            new Span<float>(dst, RowStride).Clear();
            for (int iw = 0; iw < W; iw++) dst[(iw + PadW) % StrideW * Wq + (iw + PadW) / StrideW] = src[iw];
        }
    }

    /// <summary>dst (+)= the interior columns of one padded, phase-split row, in input order.</summary>
    void MergeRow<TStore>(float* src, float* dst) where TStore : struct, IStore
    {
        if (StrideW == 1)
        {
            TStore.Run(dst, src + PadW, W);
        }
        else if (StrideW == 2 && Avx2.IsSupported)
        {
            float* even = EvenColumns(src), odd = OddColumns(src);
            int odds = W / 2, j = 0;
            for (; j <= odds - 8; j += 8)
            {
                Vector256<float> e = Avx.LoadVector256(even + j), o = Avx.LoadVector256(odd + j);
                Vector256<float> lo = Avx.UnpackLow(e, o), hi = Avx.UnpackHigh(e, o);
                TStore.Run(dst + 2 * j, Avx.Permute2x128(lo, hi, 0x20));
                TStore.Run(dst + 2 * j + 8, Avx.Permute2x128(lo, hi, 0x31));
            }
            for (; j < odds; j++)
            {
                TStore.Run(dst + 2 * j, even[j]);
                TStore.Run(dst + 2 * j + 1, odd[j]);
            }
            if (W % 2 == 1) TStore.Run(dst + 2 * j, even[j]);
        }
        else
        {
            for (int iw = 0; iw < W; iw++) TStore.Run(dst + iw, src[(iw + PadW) % StrideW * Wq + (iw + PadW) / StrideW]);
        }
    }

    /// <summary>Stride 2: where input column 0 lands (padded column PadW), followed by columns 2, 4, ...</summary>
    float* EvenColumns(float* row) => row + PadW % 2 * Wq + PadW / 2;

    /// <summary>Stride 2: where input column 1 lands (padded column PadW + 1), followed by columns 3, 5, ...</summary>
    float* OddColumns(float* row) => row + (1 - PadW % 2) * Wq + (PadW + 1) / 2;

    /// <summary>Zeroes a phase row outside its [start, start + count) data columns.</summary>
    void ZeroAround(float* phase, int start, int count)
    {
        RowOps.Zero(phase, start);
        RowOps.Zero(phase + start + count, Wq - start - count);
    }

    /// <summary>dst[i] = src[i], 8 then 4 lanes at a time: slices here are 4-32 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(float* dst, float* src, int count)
    {
        int i = 0;
        for (; i <= count - 8; i += 8) Vector256.Store(Vector256.Load(src + i), dst + i);
        if (i <= count - 4)
        {
            Vector128.Store(Vector128.Load(src + i), dst + i);
            i += 4;
        }
        for (; i < count; i++) dst[i] = src[i];
    }

    /// <summary>dst[i] += src[i], 8 then 4 lanes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddTo(float* dst, float* src, int count)
    {
        int i = 0;
        for (; i <= count - 8; i += 8) Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
        if (i <= count - 4)
        {
            Vector128.Store(Vector128.Load(dst + i) + Vector128.Load(src + i), dst + i);
            i += 4;
        }
        for (; i < count; i++) dst[i] += src[i];
    }

    /// <summary>What im2col does with one (tap, output row) slice: read it into col, or add col into it.</summary>
    interface ISliceAction
    {
        static abstract void Run(float* colRow, float* slice, int count);
    }

    struct PackSlice : ISliceAction
    {
        public static void Run(float* colRow, float* slice, int count) => Copy(colRow, slice, count);
    }

    struct AccumulateSlice : ISliceAction
    {
        public static void Run(float* colRow, float* slice, int count) => AddTo(slice, colRow, count);
    }

    /// <summary>How a merged row reaches dx: assigned, or added to what is there.</summary>
    interface IStore
    {
        static abstract void Run(float* dst, float* src, int count);
        static abstract void Run(float* dst, Vector256<float> value);
        static abstract void Run(float* dst, float value);
    }

    struct Assign : IStore
    {
        public static void Run(float* dst, float* src, int count) => Copy(dst, src, count);
        public static void Run(float* dst, Vector256<float> value) => Vector256.Store(value, dst);
        public static void Run(float* dst, float value) => *dst = value;
    }

    struct Add : IStore
    {
        public static void Run(float* dst, float* src, int count) => AddTo(dst, src, count);
        public static void Run(float* dst, Vector256<float> value) => Vector256.Store(Vector256.Load(dst) + value, dst);
        public static void Run(float* dst, float value) => *dst += value;
    }
}
