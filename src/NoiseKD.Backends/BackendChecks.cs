namespace NoiseKD.Backends;

/// <summary>
/// The argument checks of the IBackend contract, shared by every backend so that a bad call fails the
/// same way (same exception, same sentence) whichever device it was meant for.
/// </summary>
internal static class BackendChecks
{
    public static void CheckRange(DeviceBuffer b, long offset, long count)
    {
        if (b.IsReleased) throw new ObjectDisposedException(nameof(DeviceBuffer), "buffer was released to the pool");
        if (offset < 0 || count < 0 || offset + count > b.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, {offset + count}) outside a buffer of {b.Length}");
    }

    /// <summary>Each buffer holds at least <paramref name="count"/> elements from offset 0.</summary>
    public static void CheckRanges(long count, params ReadOnlySpan<DeviceBuffer> buffers)
    {
        foreach (var buffer in buffers) CheckRange(buffer, 0, count);
    }

    /// <summary>Checks a Gemm call; false when there is nothing to compute (m or n is 0).</summary>
    public static bool CheckGemm(bool transposeA, bool transposeB, int m, int n, int k,
                                 DeviceBuffer a, long aOffset, int lda, DeviceBuffer b, long bOffset, int ldb,
                                 DeviceBuffer c, long cOffset, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"gemm: negative size {m}x{n}x{k}");
        if (m == 0 || n == 0) return false;
        CheckMatrix(a, aOffset, transposeA ? k : m, transposeA ? m : k, lda, "A");
        CheckMatrix(b, bOffset, transposeB ? n : k, transposeB ? k : n, ldb, "B");
        CheckMatrix(c, cOffset, m, n, ldc, "C");
        return true;
    }

    /// <summary>A stored rows x cols matrix with leading dimension ld must lie inside its buffer.</summary>
    static void CheckMatrix(DeviceBuffer buffer, long offset, int rows, int cols, int ld, string name)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException(nameof(ld), $"gemm: leading dimension {ld} of {name} is below its {cols} columns");
        if (rows == 0 || cols == 0) return;
        CheckRange(buffer, offset, (long)(rows - 1) * ld + cols);
    }

    public static void CheckSoftmax(int rows, int cols, DeviceBuffer input, DeviceBuffer output)
    {
        if (rows < 0 || cols <= 0) throw new ArgumentException($"softmax: need rows >= 0 and cols > 0 (got {rows}x{cols}).");
        CheckRange(input, 0, (long)rows * cols);
        CheckRange(output, 0, (long)rows * cols);
    }

    public static void CheckConv(in ConvGeometry g, DeviceBuffer input, DeviceBuffer weight, DeviceBuffer output)
    {
        g.Validate();
        CheckRange(input, 0, g.InputLength);
        CheckRange(weight, 0, g.WeightLength);
        CheckRange(output, 0, g.OutputLength);
    }

    public static void CheckChannelParameters(int channels, DeviceBuffer mean, DeviceBuffer variance, DeviceBuffer? gamma, DeviceBuffer? beta)
    {
        CheckRange(mean, 0, channels);
        CheckRange(variance, 0, channels);
        if (gamma != null) CheckRange(gamma, 0, channels);
        if (beta != null) CheckRange(beta, 0, channels);
    }

    /// <summary>Checks a CopyBlocks call; false when there is nothing to copy.</summary>
    public static bool CheckBlocks(DeviceBuffer source, long sourceOffset, long sourceStride,
                                   DeviceBuffer destination, long destinationOffset, long destinationStride, long rows, long rowLength)
    {
        if (rows == 0 || rowLength == 0) return false;
        CheckRange(source, sourceOffset + (rows - 1) * sourceStride, rowLength);
        CheckRange(destination, destinationOffset + (rows - 1) * destinationStride, rowLength);
        return true;
    }

    public static void CheckBatchNormForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance,
                                             DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y)
    {
        CheckRanges((long)n * channels * hw, x, y);
        CheckChannelParameters(channels, mean, variance, gamma, beta);
    }

    /// <summary>The residual and activation of BatchNormAddActivationForward (BatchNormForward checks the rest).</summary>
    public static void CheckBatchNormAddActivationForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer? residual,
                                                          UnaryOp? activation, DeviceBuffer y)
    {
        if (activation is not (null or UnaryOp.Relu or UnaryOp.Relu6))
            throw new ArgumentException($"batch_norm: fused activation {activation} is not one of none, Relu, Relu6 (their gradient is read from the output)");
        if (ReferenceEquals(y, x) || ReferenceEquals(y, residual))
            throw new ArgumentException("batch_norm: the fused output may alias neither the input nor the residual");
        if (residual != null) CheckRange(residual, 0, (long)n * channels * hw);
    }

    public static void CheckBatchNormBackward(DeviceBuffer x, DeviceBuffer dy, int n, int channels, int hw, DeviceBuffer mean,
                                              DeviceBuffer variance, DeviceBuffer? gamma, DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta)
    {
        long length = (long)n * channels * hw;
        CheckRange(x, 0, length);
        CheckRange(dy, 0, length);
        CheckRange(dx, 0, length);
        CheckChannelParameters(channels, mean, variance, gamma, null);
        if (dgamma != null) CheckRange(dgamma, 0, channels);
        if (dbeta != null) CheckRange(dbeta, 0, channels);
    }

    public static void CheckPool(in PoolGeometry g, DeviceBuffer input, DeviceBuffer output)
    {
        g.Validate();
        CheckRange(input, 0, g.InputLength);
        CheckRange(output, 0, g.OutputLength);
    }

    public static void CheckAdaptive(int planes, int h, int w, int outH, int outW, DeviceBuffer input, DeviceBuffer output)
    {
        if (planes <= 0 || h <= 0 || w <= 0 || outH <= 0 || outW <= 0)
            throw new ArgumentException($"adaptive_avg_pool2d: sizes must be positive (planes {planes}, {h}x{w} -> {outH}x{outW}).");
        CheckRange(input, 0, (long)planes * h * w);
        CheckRange(output, 0, (long)planes * outH * outW);
    }

    public static void CheckUpsample(int planes, int h, int w, int scaleH, int scaleW, DeviceBuffer input, DeviceBuffer output)
    {
        if (planes <= 0 || h <= 0 || w <= 0 || scaleH <= 0 || scaleW <= 0)
            throw new ArgumentException($"upsample_nearest2d: sizes and scales must be positive (planes {planes}, {h}x{w}, scale {scaleH}x{scaleW}).");
        CheckRange(input, 0, (long)planes * h * w);
        CheckRange(output, 0, (long)planes * h * scaleH * w * scaleW);
    }

    public static void CheckSgdMomentum(DeviceBuffer? momentumBuffer, float momentum, long count)
    {
        if (momentum == 0f) return;
        if (momentumBuffer == null) throw new ArgumentNullException(nameof(momentumBuffer), "SGD with momentum needs a momentum buffer.");
        CheckRange(momentumBuffer, 0, count);
    }
}
