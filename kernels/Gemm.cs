using ILGPU;

namespace NoiseKD.Kernels;

/// <summary>
/// C = Alpha * op(A) * op(B) + Beta * C, row-major, op(A) M x K, op(B) K x N (views start at the operands'
/// offsets). A group of Side x Side threads computes a (4*Side)-square tile of C; TilesN x TilesM tiles, and
/// Splits slices of K of KChunk each (slice z writes to C + z*SplitStride: the host passes Alpha 1, Beta 0
/// and scratch, then adds the slices in order with <see cref="Gemm.SumSplits"/>).
/// </summary>
public readonly struct GemmParams(bool transposeA, bool transposeB, int m, int n, int k, float alpha, int lda, int ldb,
                                  float beta, int ldc, int kChunk, long splitStride, int side, int tilesN, int tilesM)
{
    public readonly int TransposeA = transposeA ? 1 : 0, TransposeB = transposeB ? 1 : 0, M = m, N = n, K = k;
    public readonly int Lda = lda, Ldb = ldb, Ldc = ldc, KChunk = kChunk, Side = side, TilesN = tilesN, TilesM = tilesM;
    public readonly float Alpha = alpha, Beta = beta;
    public readonly long SplitStride = splitStride;
}

/// <summary>Splits packed M x N slices added in slice order into C (Ldc), scaled by Alpha, plus Beta * C.</summary>
public readonly struct SplitSumParams(int m, int n, int splits, float alpha, float beta, int ldc)
{
    public readonly int M = m, N = n, Splits = splits, Ldc = ldc;
    public readonly float Alpha = alpha, Beta = beta;
}

/// <summary>The 4 x 4 results one thread of <see cref="Gemm.Tiled"/> keeps in registers (values, never addressed).</summary>
public readonly struct Block4x4(float c00, float c01, float c02, float c03, float c10, float c11, float c12, float c13,
                                float c20, float c21, float c22, float c23, float c30, float c31, float c32, float c33)
{
    readonly float _c00 = c00, _c01 = c01, _c02 = c02, _c03 = c03, _c10 = c10, _c11 = c11, _c12 = c12, _c13 = c13;
    readonly float _c20 = c20, _c21 = c21, _c22 = c22, _c23 = c23, _c30 = c30, _c31 = c31, _c32 = c32, _c33 = c33;

    /// <summary>This block plus the outer product of column (a0..a3) and row (b0..b3).</summary>
    public Block4x4 Add(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3) => new(
        _c00 + a0 * b0, _c01 + a0 * b1, _c02 + a0 * b2, _c03 + a0 * b3,
        _c10 + a1 * b0, _c11 + a1 * b1, _c12 + a1 * b2, _c13 + a1 * b3,
        _c20 + a2 * b0, _c21 + a2 * b1, _c22 + a2 * b2, _c23 + a2 * b3,
        _c30 + a3 * b0, _c31 + a3 * b1, _c32 + a3 * b2, _c33 + a3 * b3);

    /// <summary>Row r of the block, one column at a time.</summary>
    public float At(int r, int j) => r switch
    {
        0 => j == 0 ? _c00 : j == 1 ? _c01 : j == 2 ? _c02 : _c03,
        1 => j == 0 ? _c10 : j == 1 ? _c11 : j == 2 ? _c12 : _c13,
        2 => j == 0 ? _c20 : j == 1 ? _c21 : j == 2 ? _c22 : _c23,
        _ => j == 0 ? _c30 : j == 1 ? _c31 : j == 2 ? _c32 : _c33,
    };
}

/// <summary>
/// Row-major SGEMM (IBackend.Gemm), tiled through shared memory with register blocking: each thread of a
/// Side x Side group owns a 4 x 4 block of C strided by Side (neighbouring threads touch neighbouring
/// addresses), stepping through K in slices of <see cref="Depth"/> staged in shared memory. Edges are
/// zero-padded in the staged tiles and masked on the store, so any M, N, K, leading dimension and offset
/// work. Beta = 0 never reads C. CPU reference: Cpu/Sgemm.cs.
/// </summary>
public static class Gemm
{
    /// <summary>Results per thread along each axis.</summary>
    public const int Work = 4;
    /// <summary>Largest Side (16 x 16 threads, a 64 x 64 tile).</summary>
    public const int MaxSide = 16;
    public const int MaxTile = MaxSide * Work;
    /// <summary>Slice of K staged per step.</summary>
    public const int Depth = 16;
    /// <summary>One padding column keeps a column walk of a staged tile off a single bank.</summary>
    const int Row = MaxTile + 1;

    public static void Tiled(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmParams p)
    {
        var tileA = SharedMemory.Allocate<float>(Depth * Row);
        var tileB = SharedMemory.Allocate<float>(Depth * Row);
        int side = p.Side, tile = side * Work, threads = side * side;
        int t = Group.IdxX, tx = t % side, ty = t / side;
        int tilesC = p.TilesN * p.TilesM, z = Grid.IdxX / tilesC, r = Grid.IdxX - z * tilesC;
        int row0 = r / p.TilesN * tile, col0 = r % p.TilesN * tile;
        int kBegin = z * p.KChunk, kEnd = p.K - kBegin < p.KChunk ? p.K : kBegin + p.KChunk;
        var acc = new Block4x4();
        for (int p0 = kBegin; p0 < kEnd; p0 += Depth)
        {
            // Stage op(A)[row0.., p0..] and op(B)[p0.., col0..]; consecutive threads read consecutive addresses.
            for (int e = t; e < tile * Depth; e += threads)
            {
                int i, d;
                if (p.TransposeA != 0) { d = e / tile; i = e - d * tile; }
                else { i = e / Depth; d = e - i * Depth; }
                int gi = row0 + i, gd = p0 + d;
                float v = 0f;
                if (gi < p.M && gd < kEnd) v = p.TransposeA != 0 ? a[(long)gd * p.Lda + gi] : a[(long)gi * p.Lda + gd];
                tileA[d * Row + i] = v;

                int j;
                if (p.TransposeB != 0) { j = e / Depth; d = e - j * Depth; }
                else { d = e / tile; j = e - d * tile; }
                int gj = col0 + j;
                gd = p0 + d;
                float w = 0f;
                if (gj < p.N && gd < kEnd) w = p.TransposeB != 0 ? b[(long)gj * p.Ldb + gd] : b[(long)gd * p.Ldb + gj];
                tileB[d * Row + j] = w;
            }
            Group.Barrier();
            for (int d = 0; d < Depth; d++)
            {
                int at = d * Row;
                acc = acc.Add(tileA[at + ty], tileA[at + ty + side], tileA[at + ty + 2 * side], tileA[at + ty + 3 * side],
                              tileB[at + tx], tileB[at + tx + side], tileB[at + tx + 2 * side], tileB[at + tx + 3 * side]);
            }
            Group.Barrier();
        }
        long split = z * p.SplitStride;
        for (int i = 0; i < Work; i++)
        {
            int gi = row0 + ty + i * side;
            if (gi >= p.M) continue;
            for (int j = 0; j < Work; j++)
            {
                int gj = col0 + tx + j * side;
                if (gj >= p.N) continue;
                long at = split + (long)gi * p.Ldc + gj;
                float value = acc.At(i, j);
                c[at] = p.Beta == 0f ? p.Alpha * value : p.Alpha * value + p.Beta * c[at];
            }
        }
    }

    /// <summary>C = alpha * (sum of the split-K slices, in slice order) + beta * C; slices are M x N, packed.</summary>
    public static void SumSplits(ArrayView<float> partial, ArrayView<float> c, SplitSumParams p)
    {
        long total = (long)p.M * p.N;
        for (long e = Loops.First; e < total; e += Loops.Stride)
        {
            float sum = 0f;
            for (int z = 0; z < p.Splits; z++) sum += partial[z * total + e];
            long at = e / p.N * p.Ldc + e % p.N;
            c[at] = p.Beta == 0f ? p.Alpha * sum : p.Alpha * sum + p.Beta * c[at];
        }
    }
}
