using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Kernels;

// SGEMM: kernels/gemm.cl has two kernels for one contract. GPUs get the local-memory tiled kernel; CPU
// drivers (PoCL) run work-groups as loops over items and spill registers at every barrier, so they get
// the barrier-free register-blocked one (5x faster there).
public abstract partial class KernelBackend
{
    /// <summary>GEMM_THREADS and GEMM_TILE, STRIP_ROWS and STRIP_COLS of kernels/gemm.cl.</summary>
    const int GemmThreads = 16, GemmTile = 64, StripRows = 6, StripColumns = 16;
    /// <summary>Items per work-group of gemm_strips: small, so that even a narrow C gives the driver several groups.</summary>
    const int StripGroup = 16;
    /// <summary>K is split only into slices at least this long (shorter ones cost more to add up than they save).</summary>
    const int MinSplitDepth = 256;

    /// <summary>Whether Gemm runs the tiled local-memory kernel (GPUs) rather than gemm_strips (CPU drivers); see NOISEKD_OPENCL_GEMM.</summary>
    internal bool TiledGemm { get; set; } = true;

    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k,
                     float alpha, DeviceBuffer a, long aOffset, int lda,
                     DeviceBuffer b, long bOffset, int ldb,
                     float beta, DeviceBuffer c, long cOffset, int ldc)
    {
        if (!CheckGemm(transposeA, transposeB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc)) return;
        var grid = TiledGemm
            ? Grid.Tiles((n + GemmTile - 1) / GemmTile, (m + GemmTile - 1) / GemmTile, GemmThreads)
            : Grid.Blocks((n + StripColumns - 1) / StripColumns, (m + StripRows - 1) / StripRows, StripGroup);
        string kernel = TiledGemm ? "gemm" : "gemm_strips";
        int splits = Splits(grid.GroupCount, k);
        if (splits == 1)
        {
            Run(kernel, grid, [transposeA, transposeB, m, n, k, alpha, Of(a), aOffset, lda, Of(b), bOffset, ldb, beta, Of(c), cOffset, ldc, k, 0L]);
            return;
        }
        int chunk = (k + splits - 1) / splits;
        using var partial = Allocate((long)splits * m * n);
        Run(kernel, grid with { Groups2 = splits },
            [transposeA, transposeB, m, n, k, 1f, Of(a), aOffset, lda, Of(b), bOffset, ldb, 0f, Of(partial), 0L, n, chunk, (long)m * n]);
        Run("gemm_sum_splits", Grid.Elements((long)m * n), [Of(partial), splits, m, n, alpha, beta, Of(c), cOffset, ldc]);
    }

    /// <summary>
    /// How many slices of K to compute in parallel: enough for four work-groups per compute unit, as long
    /// as every slice keeps <see cref="MinSplitDepth"/> of K. Depends only on the shape and the device.
    /// </summary>
    int Splits(long groups, int k)
    {
        long wanted = 4L * ComputeUnits;
        if (groups >= wanted) return 1;
        return (int)Math.Clamp((wanted + groups - 1) / groups, 1, Math.Max(1, k / MinSplitDepth));
    }
}
