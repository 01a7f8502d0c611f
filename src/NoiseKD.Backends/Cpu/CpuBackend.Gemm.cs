using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k,
                     float alpha, DeviceBuffer a, long aOffset, int lda,
                     DeviceBuffer b, long bOffset, int ldb,
                     float beta, DeviceBuffer c, long cOffset, int ldc)
    {
        if (!CheckGemm(transposeA, transposeB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc)) return;
        Sgemm.Multiply(transposeA, transposeB, m, n, k, alpha, P(a) + aOffset, lda, P(b) + bOffset, ldb,
                       beta, P(c) + cOffset, ldc);
    }
}
