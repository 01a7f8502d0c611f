using static NoiseKD.Backends.BackendChecks;
using static NoiseKD.Backends.OpenCl.KernelArg;

namespace NoiseKD.Backends.OpenCl;

// SGEMM: kernels/gemm.cl.
public sealed partial class OpenClBackend
{
    /// <summary>GEMM_THREADS and GEMM_TILE of kernels/gemm.cl.</summary>
    const int GemmThreads = 16, GemmTile = 64;

    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k,
                     float alpha, DeviceBuffer a, long aOffset, int lda,
                     DeviceBuffer b, long bOffset, int ldb,
                     float beta, DeviceBuffer c, long cOffset, int ldc)
    {
        if (!CheckGemm(transposeA, transposeB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc)) return;
        var grid = Grid.Tiles((n + GemmTile - 1) / GemmTile, (m + GemmTile - 1) / GemmTile, GemmThreads);
        Run("gemm", grid, [transposeA, transposeB, m, n, k, alpha, Of(a), aOffset, lda, Of(b), bOffset, ldb, beta, Of(c), cOffset, ldc]);
    }
}
