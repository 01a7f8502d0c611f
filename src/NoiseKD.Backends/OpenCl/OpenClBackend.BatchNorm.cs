using static NoiseKD.Backends.BackendChecks;
using static NoiseKD.Backends.OpenCl.KernelArg;

namespace NoiseKD.Backends.OpenCl;

// Batch normalization over [N, C, HW]: kernels/batchnorm.cl on top of the channel sums of reduce.cl.
public sealed partial class OpenClBackend
{
    public void BatchNormStatistics(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance)
    {
        CheckRange(x, 0, (long)n * channels * hw);
        CheckRange(mean, 0, channels);
        CheckRange(variance, 0, channels);
        float inverseCount = (float)(1.0 / ((long)n * hw));
        // Two passes (mean, then squared deviations from it): no cancellation of E[x^2] - E[x]^2.
        ChannelReduce(Term.Plain, x, null, null, n, channels, hw, inverseCount, mean, 0, accumulate: false);
        ChannelReduce(Term.SquaredDeviation, x, null, mean, n, channels, hw, inverseCount, variance, 0, accumulate: false);
    }

    public void BatchNormForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance,
                                 float eps, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y)
    {
        long total = (long)n * channels * hw;
        CheckRange(x, 0, total);
        CheckRange(y, 0, total);
        CheckChannelParameters(channels, mean, variance, gamma, beta);
        Run("batchnorm_forward", Grid.Elements(total), [Of(x), total, channels, hw, Of(mean), Of(variance), eps, Of(gamma), Of(beta), Of(y)]);
    }

    public void BatchNormBackward(DeviceBuffer x, DeviceBuffer dy, int n, int channels, int hw,
                                  DeviceBuffer mean, DeviceBuffer variance, float eps, DeviceBuffer? gamma,
                                  bool batchStatistics, DeviceBuffer dx, bool accumulateDx,
                                  DeviceBuffer? dgamma, DeviceBuffer? dbeta)
    {
        long total = (long)n * channels * hw;
        CheckRange(x, 0, total);
        CheckRange(dy, 0, total);
        CheckRange(dx, 0, total);
        CheckChannelParameters(channels, mean, variance, gamma, null);
        if (dgamma != null) CheckRange(dgamma, 0, channels);
        if (dbeta != null) CheckRange(dbeta, 0, channels);
        bool needSums = batchStatistics || dgamma != null || dbeta != null;
        // sums[c] = sum(dy), sums[C + c] = sum(dy * (x - mean)).
        using var sums = Allocate(needSums ? 2L * channels : 0);
        if (needSums)
        {
            ChannelReduce(Term.Plain, dy, null, null, n, channels, hw, 1f, sums, 0, accumulate: false);
            ChannelReduce(Term.CenteredProduct, x, dy, mean, n, channels, hw, 1f, sums, channels, accumulate: false);
        }
        if (dgamma != null || dbeta != null)
            Run("batchnorm_parameter_gradients", Grid.Elements(channels), [Of(sums), Of(variance), eps, channels, Of(dgamma), Of(dbeta)]);
        Run("batchnorm_backward_data", Grid.Elements(total),
            [Of(x), Of(dy), total, channels, hw, Of(mean), Of(variance), eps, Of(gamma), Of(sums), batchStatistics,
             (float)(1.0 / ((long)n * hw)), Of(dx), accumulateDx]);
    }
}
