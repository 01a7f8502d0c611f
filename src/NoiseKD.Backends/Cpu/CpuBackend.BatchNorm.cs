using System.Numerics;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Cpu;

// Batch normalization over [N, C, HW] (Ioffe & Szegedy 2015, Algorithm 1 and section 3).
// Every per-channel sum runs in double; channels are independent, so they are the parallel axis.
public sealed unsafe partial class CpuBackend
{
    public void BatchNormStatistics(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance)
    {
        CheckRange(x, 0, (long)n * channels * hw);
        CheckRange(mean, 0, channels);
        CheckRange(variance, 0, channels);
        float* px = P(x), pm = P(mean), pv = P(variance);
        long count = (long)n * hw;
        // One pass of sums shifted by the channel's first value s: var = E[(x-s)^2] - E[x-s]^2, which
        // does not cancel the way E[x^2] - E[x]^2 does when |mean| >> std, as long as s is a typical value.
        CpuParallel.For(channels, 2.0 * count, c =>
        {
            float shift = px[(long)c * hw];
            var (sum, squares) = DoubleSums.ShiftedMoments(px, px, n, channels, hw, c, shift, shift);
            double meanShifted = sum / count;
            pm[c] = (float)(shift + meanShifted);
            pv[c] = (float)Math.Max(0, squares / count - meanShifted * meanShifted); // biased, as BN normalizes with
        });
    }

    public void BatchNormForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance,
                                 float eps, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y)
        => BatchNormAddActivationForward(x, n, channels, hw, mean, variance, eps, gamma, beta, null, null, y);

    /// <summary>One pass over x (and the residual) instead of the default's three over y.</summary>
    public void BatchNormAddActivationForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance,
                                              float eps, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer? residual,
                                              UnaryOp? activation, DeviceBuffer y)
    {
        CheckBatchNormForward(x, n, channels, hw, mean, variance, gamma, beta, y);
        CheckBatchNormAddActivationForward(x, n, channels, hw, residual, activation, y);
        float* pv = P(variance), pg = P(gamma, allowNull: true), pb = P(beta, allowNull: true);
        // Scale and shift once per channel, then the planes in memory order split into one contiguous
        // range per thread: small maps (4x4) have planes of 16 floats, too few to pay for a call and a
        // square root each, and large ones stream best in order.
        var scales = new float[channels];
        var shifts = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double invStd = 1.0 / Math.Sqrt((double)pv[c] + eps);
            scales[c] = (float)(pg == null ? invStd : pg[c] * invStd);
            shifts[c] = pb == null ? 0f : pb[c];
        }
        var planes = new NormalizedPlanes(P(x), P(residual, allowNull: true), P(y), P(mean), scales, shifts, n, channels, hw);
        switch (activation)
        {
            case null: planes.Run(new IdentityFunction()); break;
            case UnaryOp.Relu: planes.Run(new ReluFunction()); break;
            default: planes.Run(new Relu6Function()); break; // the check admits only these three
        }
    }

    /// <summary>y = act((x - mean) * scale + shift [+ residual]) over every [n, c] plane.</summary>
    readonly struct NormalizedPlanes(float* x, float* residual, float* y, float* mean, float[] scales, float[] shifts,
                                     int n, int channels, int hw)
    {
        public void Run<TActivation>(TActivation activation) where TActivation : struct, IMapFunction
        {
            // Copies: a lambda inside a struct cannot capture its primary-constructor parameters.
            float* px = x, pr = residual, py = y, pm = mean;
            var (scale, shift, c, length) = (scales, shifts, channels, hw);
            CpuParallel.ForRange((long)n * channels, 2.0 * hw, (p0, p1) =>
            {
                for (long plane = p0; plane < p1; plane++)
                {
                    int ch = (int)(plane % c);
                    long offset = plane * length;
                    var normalize = new NormalizeFunction<TActivation>(pm[ch], scale[ch], shift[ch], activation);
                    if (pr == null) MapSpan(px + offset, py + offset, 0, length, normalize);
                    else ZipSpan(px + offset, pr + offset, py + offset, 0, length, normalize, accumulate: false);
                }
            });
        }
    }

    public void BatchNormBackward(DeviceBuffer x, DeviceBuffer dy, int n, int channels, int hw,
                                  DeviceBuffer mean, DeviceBuffer variance, float eps, DeviceBuffer? gamma,
                                  bool batchStatistics, DeviceBuffer dx, bool accumulateDx,
                                  DeviceBuffer? dgamma, DeviceBuffer? dbeta)
    {
        CheckBatchNormBackward(x, dy, n, channels, hw, mean, variance, gamma, dx, dgamma, dbeta);
        float* px = P(x), pdy = P(dy), pdx = P(dx), pm = P(mean), pv = P(variance), pg = P(gamma, allowNull: true);
        float* pdg = P(dgamma, allowNull: true), pdb = P(dbeta, allowNull: true);
        long count = (long)n * hw;
        bool needSums = batchStatistics || pdg != null || pdb != null;
        CpuParallel.For(channels, 4.0 * count, c =>
        {
            double mu = pm[c];
            double invStd = 1.0 / Math.Sqrt((double)pv[c] + eps);
            double sumDy = 0, sumDyXhat = 0;
            if (needSums)
            {
                var (dySum, centeredProducts) = DoubleSums.ShiftedMoments(px, pdy, n, channels, hw, c, (float)mu, 0f);
                sumDy = dySum;
                sumDyXhat = invStd * centeredProducts;
            }
            if (pdg != null) pdg[c] = (float)(pdg[c] + sumDyXhat);
            if (pdb != null) pdb[c] = (float)(pdb[c] + sumDy);

            // Train mode: dx = gamma*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)), written as
            // dx = k*dy + (x - mean)*slope + shift so each element costs two multiply-adds.
            double k = (pg == null ? 1.0 : pg[c]) * invStd;
            var gradient = batchStatistics
                ? new BatchNormGradientFunction((float)mu, (float)k, (float)(-k * invStd * sumDyXhat / count), (float)(-k * sumDy / count))
                : new BatchNormGradientFunction((float)mu, (float)k, 0f, 0f);
            for (int i = 0; i < n; i++)
            {
                long offset = ((long)i * channels + c) * hw;
                ZipSpan(px + offset, pdy + offset, pdx + offset, 0, hw, gradient, accumulateDx);
            }
        });
    }
}

/// <summary>
/// act((x - mean) * scale + shift), and act(that + residual) as a zip with b = residual. The same float
/// operations in the same order as BatchNormForward, Binary(Add) and Unary apart, so fusing changes no bit.
/// (x - mean) * scale + shift rather than x * scale + (shift - mean*scale): no cancellation when |mean| >> std.
/// </summary>
readonly struct NormalizeFunction<TActivation>(float mean, float scale, float shift, TActivation activation) : IMapFunction, IZipFunction
    where TActivation : struct, IMapFunction
{
    public float Apply(float x) => activation.Apply((x - mean) * scale + shift);
    public Vector<float> Apply(Vector<float> x)
        => activation.Apply((x - new Vector<float>(mean)) * scale + new Vector<float>(shift));
    public float Apply(float x, float residual) => activation.Apply((x - mean) * scale + shift + residual);
    public Vector<float> Apply(Vector<float> x, Vector<float> residual)
        => activation.Apply((x - new Vector<float>(mean)) * scale + new Vector<float>(shift) + residual);
}

/// <summary>dx = k*dy + (x - mean)*slope + shift, with a = x and b = dy.</summary>
readonly struct BatchNormGradientFunction(float mean, float k, float slope, float shift) : IZipFunction
{
    public float Apply(float x, float dy) => k * dy + (x - mean) * slope + shift;
    public Vector<float> Apply(Vector<float> x, Vector<float> dy)
        => k * dy + (x - new Vector<float>(mean)) * slope + new Vector<float>(shift);
}
