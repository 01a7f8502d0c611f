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
        // Two passes (mean, then squared deviations from it): no cancellation of E[x^2] - E[x]^2.
        CpuParallel.For(channels, 2.0 * count, c =>
        {
            double mu = DoubleSums.OverChannel(px, px, n, channels, hw, c, new Plain()) / count;
            double squares = DoubleSums.OverChannel(px, px, n, channels, hw, c, new SquaredDeviation(mu));
            pm[c] = (float)mu;
            pv[c] = (float)(squares / count); // biased, as BN normalizes with
        });
    }

    public void BatchNormForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance,
                                 float eps, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y)
    {
        CheckBatchNormForward(x, n, channels, hw, mean, variance, gamma, beta, y);
        float* px = P(x), py = P(y), pm = P(mean), pv = P(variance);
        float* pg = P(gamma, allowNull: true), pb = P(beta, allowNull: true);
        CpuParallel.For(n * channels, 2.0 * hw, plane =>
        {
            int c = plane % channels;
            double invStd = 1.0 / Math.Sqrt((double)pv[c] + eps);
            float scale = (float)(pg == null ? invStd : pg[c] * invStd);
            float shift = pb == null ? 0f : pb[c];
            long offset = (long)plane * hw;
            // (x - mean) * scale + shift rather than x * scale + (shift - mean*scale): no cancellation when |mean| >> std.
            MapSpan(px + offset, py + offset, 0, hw, new NormalizeFunction(pm[c], scale, shift));
        });
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
                sumDy = DoubleSums.OverChannel(pdy, pdy, n, channels, hw, c, new Plain());
                sumDyXhat = invStd * DoubleSums.OverChannel(px, pdy, n, channels, hw, c, new CenteredProduct(mu));
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

/// <summary>(x - mean) * scale + shift.</summary>
readonly struct NormalizeFunction(float mean, float scale, float shift) : IMapFunction
{
    public float Apply(float x) => (x - mean) * scale + shift;
    public Vector<float> Apply(Vector<float> x)
        => (x - new Vector<float>(mean)) * scale + new Vector<float>(shift);
}

/// <summary>dx = k*dy + (x - mean)*slope + shift, with a = x and b = dy.</summary>
readonly struct BatchNormGradientFunction(float mean, float k, float slope, float shift) : IZipFunction
{
    public float Apply(float x, float dy) => k * dy + (x - mean) * slope + shift;
    public Vector<float> Apply(Vector<float> x, Vector<float> dy)
        => k * dy + (x - new Vector<float>(mean)) * slope + new Vector<float>(shift);
}
