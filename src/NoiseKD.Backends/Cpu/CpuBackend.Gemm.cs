namespace NoiseKD.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k,
                     float alpha, DeviceBuffer a, long aOffset, int lda,
                     DeviceBuffer b, long bOffset, int ldb,
                     float beta, DeviceBuffer c, long cOffset, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"gemm: negative size {m}x{n}x{k}");
        if (m == 0 || n == 0) return;
        CheckMatrix(a, aOffset, transposeA ? k : m, transposeA ? m : k, lda, "A");
        CheckMatrix(b, bOffset, transposeB ? n : k, transposeB ? k : n, ldb, "B");
        CheckMatrix(c, cOffset, m, n, ldc, "C");
        Sgemm.Multiply(transposeA, transposeB, m, n, k, alpha, P(a) + aOffset, lda, P(b) + bOffset, ldb,
                       beta, P(c) + cOffset, ldc);
    }

    /// <summary>A stored rows x cols matrix with leading dimension ld must lie inside its buffer.</summary>
    static void CheckMatrix(DeviceBuffer buffer, long offset, int rows, int cols, int ld, string name)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException(nameof(ld), $"gemm: leading dimension {ld} of {name} is below its {cols} columns");
        if (rows == 0 || cols == 0) return;
        CheckRange(buffer, offset, (long)(rows - 1) * ld + cols);
    }
}
