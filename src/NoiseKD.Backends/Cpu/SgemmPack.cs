using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// Copies blocks of op(A) and op(B) into the contiguous sliver layout the micro-kernel streams
/// (Goto and van de Geijn 2008, section 6): packing absorbs the transposes and the strides, and
/// pads the last sliver with zeros so the kernel never needs an edge case in its k loop.
/// </summary>
internal static unsafe class SgemmPack
{
    /// <summary>
    /// Packs op(A)[ic.., pc..] (mc x kc) into <paramref name="rows"/>-row slivers (the kernel's MR),
    /// each stored k-major (rows floats per k), the last sliver zero-padded to full rows.
    /// </summary>
    public static void A(bool transA, float* a, int lda, int ic, int pc, int mc, int kc, int rows, float* dst)
    {
        for (int i0 = 0; i0 < mc; i0 += rows)
        {
            int mr = Math.Min(rows, mc - i0);
            float* sliver = dst + (long)i0 * kc;
            if (transA)
            {
                // op(A)[i, p] = a[p*lda + i]: each k step is `rows` contiguous floats.
                float* src = a + (long)pc * lda + ic + i0;
                for (int p = 0; p < kc; p++, src += lda)
                {
                    float* d = sliver + p * rows;
                    int r = 0;
                    for (; r < mr; r++) d[r] = src[r];
                    for (; r < rows; r++) d[r] = 0f;
                }
            }
            else
            {
                // op(A)[i, p] = a[i*lda + p]: read each row contiguously, scatter with stride `rows`.
                for (int r = 0; r < mr; r++)
                {
                    float* src = a + (long)(ic + i0 + r) * lda + pc;
                    for (int p = 0; p < kc; p++) sliver[p * rows + r] = src[p];
                }
                for (int r = mr; r < rows; r++)
                    for (int p = 0; p < kc; p++) sliver[p * rows + r] = 0f;
            }
        }
    }

    /// <summary>
    /// Packs op(B)[pc.., jc..] (kc x nc) into Sgemm.NR-column slivers, each stored k-major (Sgemm.NR floats per k),
    /// the last sliver zero-padded to Sgemm.NR columns.
    /// </summary>
    public static void B(bool transB, float* b, int ldb, int pc, int jc, int kc, int nc, float* dst)
    {
        for (int j0 = 0; j0 < nc; j0 += Sgemm.NR)
        {
            int nr = Math.Min(Sgemm.NR, nc - j0);
            float* sliver = dst + (long)j0 * kc;
            if (transB)
            {
                // op(B)[p, j] = b[j*ldb + p]: read each column of op(B) contiguously; full 8x8
                // blocks go through registers, the rest element by element.
                float* src = b + (long)(jc + j0) * ldb + pc;
                int pDone = 0;
                if (nr == Sgemm.NR && Avx.IsSupported)
                {
                    for (; pDone <= kc - 8; pDone += 8)
                    {
                        Transpose8x8(src + pDone, ldb, sliver + pDone * Sgemm.NR, Sgemm.NR);
                        Transpose8x8(src + 8L * ldb + pDone, ldb, sliver + pDone * Sgemm.NR + 8, Sgemm.NR);
                    }
                }
                for (int j = 0; j < Sgemm.NR; j++)
                {
                    float* column = src + (long)j * ldb;
                    for (int p = pDone; p < kc; p++) sliver[p * Sgemm.NR + j] = j < nr ? column[p] : 0f;
                }
            }
            else
            {
                // op(B)[p, j] = b[p*ldb + j]: each k step is Sgemm.NR contiguous floats.
                float* src = b + (long)pc * ldb + jc + j0;
                if (nr == Sgemm.NR)
                {
                    for (int p = 0; p < kc; p++, src += ldb)
                    {
                        Vector256.Store(Vector256.Load(src), sliver + p * Sgemm.NR);
                        Vector256.Store(Vector256.Load(src + 8), sliver + p * Sgemm.NR + 8);
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++, src += ldb)
                    {
                        float* d = sliver + p * Sgemm.NR;
                        int j = 0;
                        for (; j < nr; j++) d[j] = src[j];
                        for (; j < Sgemm.NR; j++) d[j] = 0f;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Packs rows [k, k + length) of a kc x nc block of op(B) whose column t is the contiguous slice
    /// at segment + offsets[t] (an implicit im2col, transposed): 8 columns x 8 rows go through one
    /// register transpose.
    /// </summary>
    public static void TransposedSlices(float* segment, long* offsets, int k, int length, int kc, int nc, float* dst)
    {
        const int NR = Sgemm.NR;
        var rows = stackalloc float*[NR];
        for (int s0 = 0; s0 < nc; s0 += NR)
        {
            int nr = Math.Min(NR, nc - s0);
            float* d = dst + (long)s0 * kc + (long)k * NR;
            for (int t = 0; t < NR; t++) rows[t] = t < nr ? segment + offsets[s0 + t] : null;
            int q = 0;
            if (nr == NR && Avx.IsSupported)
                for (; q <= length - 8; q += 8)
                {
                    StoreTransposed(Vector256.Load(rows[0] + q), Vector256.Load(rows[1] + q), Vector256.Load(rows[2] + q),
                                    Vector256.Load(rows[3] + q), Vector256.Load(rows[4] + q), Vector256.Load(rows[5] + q),
                                    Vector256.Load(rows[6] + q), Vector256.Load(rows[7] + q), d + q * NR, NR);
                    StoreTransposed(Vector256.Load(rows[8] + q), Vector256.Load(rows[9] + q), Vector256.Load(rows[10] + q),
                                    Vector256.Load(rows[11] + q), Vector256.Load(rows[12] + q), Vector256.Load(rows[13] + q),
                                    Vector256.Load(rows[14] + q), Vector256.Load(rows[15] + q), d + q * NR + 8, NR);
                }
            for (; q < length; q++)
                for (int t = 0; t < NR; t++) d[q * NR + t] = t < nr ? rows[t][q] : 0f;
        }
    }

    /// <summary>dst[q*ldd + r] = src[r*lds + q] for an 8x8 block.</summary>
    static void Transpose8x8(float* src, int lds, float* dst, int ldd)
        => StoreTransposed(Avx.LoadVector256(src), Avx.LoadVector256(src + lds), Avx.LoadVector256(src + 2L * lds),
                           Avx.LoadVector256(src + 3L * lds), Avx.LoadVector256(src + 4L * lds), Avx.LoadVector256(src + 5L * lds),
                           Avx.LoadVector256(src + 6L * lds), Avx.LoadVector256(src + 7L * lds), dst, ldd);

    /// <summary>
    /// dst[q*ldd + r] = lane q of row r, for eight 8-lane rows (the classic unpack/shuffle/permute
    /// transpose); the caller loads the rows from wherever they live.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreTransposed(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
                                         Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
                                         float* dst, int ldd)
    {
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE), s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE), s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2L * ldd, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3L * ldd, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4L * ldd, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5L * ldd, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6L * ldd, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7L * ldd, Avx.Permute2x128(s3, s7, 0x31));
    }
}
