using NoiseKD.Kernels;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Ilgpu;

// SGEMM: kernels/Gemm.cs (shared-memory tiles, 4x4 register blocks), with K split into slices when C has
// too few tiles to fill the device.
public sealed partial class IlgpuBackend
{
    /// <summary>K is split only into slices at least this long (shorter ones cost more to add up than they save).</summary>
    const int MinSplitDepth = 256;

    /// <summary>Threads per side of a GEMM group: the largest power of two whose square fits the group, at most 16.</summary>
    int GemmSide => Math.Min(global::NoiseKD.Kernels.Gemm.MaxSide, LargestPowerOfTwo((int)Math.Sqrt(_accelerator.MaxNumThreadsPerGroup)));

    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k,
                     float alpha, DeviceBuffer a, long aOffset, int lda,
                     DeviceBuffer b, long bOffset, int ldb,
                     float beta, DeviceBuffer c, long cOffset, int ldc)
    {
        if (!CheckGemm(transposeA, transposeB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc)) return;
        Count(c.Length);
        int side = GemmSide, tile = side * global::NoiseKD.Kernels.Gemm.Work;
        int tilesN = (n + tile - 1) / tile, tilesM = (m + tile - 1) / tile;
        var group = side * side;
        var av = V(a).SubView(aOffset);
        var bv = V(b).SubView(bOffset);
        int splits = Splits((long)tilesN * tilesM, k);
        if (splits == 1)
        {
            Kernels.Gemm.Tiled(new((int)((long)tilesN * tilesM), group), av, bv, V(c).SubView(cOffset),
                               new GemmParams(transposeA, transposeB, m, n, k, alpha, lda, ldb, beta, ldc, k, 0, side, tilesN, tilesM));
            return;
        }
        int chunk = (k + splits - 1) / splits;
        using var partial = Allocate((long)splits * m * n);
        Kernels.Gemm.Tiled(new((int)((long)tilesN * tilesM * splits), group), av, bv, V(partial),
                           new GemmParams(transposeA, transposeB, m, n, k, 1f, lda, ldb, 0f, n, chunk, (long)m * n, side, tilesN, tilesM));
        Kernels.Gemm.SumSplits(Elements((long)m * n), V(partial), V(c).SubView(cOffset), new SplitSumParams(m, n, splits, alpha, beta, ldc));
    }

    /// <summary>
    /// How many slices of K to compute in parallel: enough for four groups per multiprocessor, as long as
    /// every slice keeps <see cref="MinSplitDepth"/> of K. Depends only on the shape and the device.
    /// </summary>
    int Splits(long groups, int k)
    {
        long wanted = 4L * _accelerator.NumMultiprocessors;
        if (groups >= wanted) return 1;
        return (int)Math.Clamp((wanted + groups - 1) / groups, 1, Math.Max(1, k / MinSplitDepth));
    }
}
