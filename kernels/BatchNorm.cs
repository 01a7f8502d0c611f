using ILGPU;

namespace NoiseKD.Kernels;

/// <summary>
/// [N, C, HW] with per-channel mean/variance; Eps; Activation an op code (or <see cref="OpCodes.Identity"/>);
/// HasGamma/HasBeta/HasResidual say which optional views are real (affine=false gives empty views).
/// </summary>
public readonly struct BatchNormParams(int n, int channels, int hw, float eps, int activation, bool hasGamma, bool hasBeta,
                                       bool hasResidual, bool batchStatistics, bool accumulate, int chunks)
{
    public readonly int N = n, Channels = channels, Hw = hw, Activation = activation, Chunks = chunks;
    public readonly int HasGamma = hasGamma ? 1 : 0, HasBeta = hasBeta ? 1 : 0, HasResidual = hasResidual ? 1 : 0;
    public readonly int BatchStatistics = batchStatistics ? 1 : 0, Accumulate = accumulate ? 1 : 0;
    public readonly float Eps = eps;
}

/// <summary>
/// Batch normalization over [N, C, HW] (Ioffe &amp; Szegedy 2015, Algorithm 1): statistics from one pass of
/// <see cref="Reduce.ChannelMoments"/>, per-channel coefficients once per channel in double, then
/// elementwise passes of two multiply-adds. CPU reference: Cpu/CpuBackend.BatchNorm.cs.
/// </summary>
public static class BatchNorm
{
    /// <summary>mean[c], variance[c] (biased) from the shifted moments of x (shift: x's first value of the channel).</summary>
    public static void Statistics(ArrayView<float> x, ArrayView<double> partials, ArrayView<float> mean, ArrayView<float> variance, BatchNormParams p)
    {
        double count = (double)p.N * p.Hw;
        for (int c = Loops.First; c < p.Channels; c += Loops.Stride)
        {
            float shift = x[(long)c * p.Hw];
            double meanShifted = Reduce.ChunkTotal(partials, c, p.Chunks, 0) / count;
            double squares = Reduce.ChunkTotal(partials, c, p.Chunks, 1) / count;
            double v = squares - meanShifted * meanShifted;
            mean[c] = (float)(shift + meanShifted);
            variance[c] = (float)(v > 0 ? v : 0);
        }
    }

    /// <summary>scale[c] = gamma[c] / sqrt(var[c] + eps), computed in double as the CPU does.</summary>
    public static void Scale(ArrayView<float> variance, ArrayView<float> gamma, ArrayView<float> scale, BatchNormParams p)
    {
        for (int c = Loops.First; c < p.Channels; c += Loops.Stride)
        {
            double invStd = 1.0 / Math.Sqrt((double)variance[c] + p.Eps);
            scale[c] = (float)(p.HasGamma != 0 ? gamma[c] * invStd : invStd);
        }
    }

    /// <summary>
    /// y = act((x - mean) * scale + beta [+ residual]): BatchNormForward, and cuDNN's BN_ADD_ACTIVATION in
    /// the same float operations in the same order as the separate passes.
    /// </summary>
    public static void Forward(ArrayView<float> x, ArrayView<float> mean, ArrayView<float> scale, ArrayView<float> beta,
                               ArrayView<float> residual, ArrayView<float> y, BatchNormParams p)
    {
        long total = (long)p.N * p.Channels * p.Hw;
        for (long i = Loops.First; i < total; i += Loops.Stride)
        {
            int c = (int)((i / p.Hw) % p.Channels);
            float v = (x[i] - mean[c]) * scale[c] + (p.HasBeta != 0 ? beta[c] : 0f);
            if (p.HasResidual != 0) v += residual[i];
            y[i] = p.Activation == OpCodes.Identity ? v : Elementwise.UnaryValue(p.Activation, 0f, v);
        }
    }

    /// <summary>
    /// Per channel from the backward moments (sum dy, sum (x - mean) dy): dgamma += sum(dy*xhat), dbeta +=
    /// sum(dy) (empty views skip them), and coefficients[3c..3c+2] = (k, slope, shift) of
    /// dx = k*dy + (x - mean)*slope + shift; running statistics: slope = shift = 0.
    /// </summary>
    public static void BackwardCoefficients(ArrayView<double> partials, ArrayView<float> variance, ArrayView<float> gamma,
                                            ArrayView<float> coefficients, ArrayView<float> dgamma, ArrayView<float> dbeta, BatchNormParams p)
    {
        double count = (double)p.N * p.Hw;
        for (int c = Loops.First; c < p.Channels; c += Loops.Stride)
        {
            double invStd = 1.0 / Math.Sqrt((double)variance[c] + p.Eps);
            double sumDy = 0, sumDyXhat = 0;
            if (p.Chunks > 0)
            {
                sumDy = Reduce.ChunkTotal(partials, c, p.Chunks, 0);
                sumDyXhat = invStd * Reduce.ChunkTotal(partials, c, p.Chunks, 1);
            }
            if (dgamma.Length > 0) dgamma[c] = (float)(dgamma[c] + sumDyXhat);
            if (dbeta.Length > 0) dbeta[c] = (float)(dbeta[c] + sumDy);
            double k = (p.HasGamma != 0 ? gamma[c] : 1.0) * invStd;
            coefficients[3 * c] = (float)k;
            coefficients[3 * c + 1] = p.BatchStatistics != 0 ? (float)(-k * invStd * sumDyXhat / count) : 0f;
            coefficients[3 * c + 2] = p.BatchStatistics != 0 ? (float)(-k * sumDy / count) : 0f;
        }
    }

    public static void BackwardData(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> mean, ArrayView<float> coefficients,
                                    ArrayView<float> dx, BatchNormParams p)
    {
        long total = (long)p.N * p.Channels * p.Hw;
        for (long i = Loops.First; i < total; i += Loops.Stride)
        {
            int c = (int)((i / p.Hw) % p.Channels);
            float g = coefficients[3 * c] * dy[i] + (x[i] - mean[c]) * coefficients[3 * c + 1] + coefficients[3 * c + 2];
            dx[i] = p.Accumulate != 0 ? dx[i] + g : g;
        }
    }
}
