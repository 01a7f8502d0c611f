using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Kernels;

// Batch normalization over [N, C, HW]: kernels/batchnorm.cl on top of the channel sums of reduce.cl.
public abstract partial class KernelBackend
{
    public void BatchNormStatistics(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance)
    {
        CheckRange(x, 0, (long)n * channels * hw);
        CheckRange(mean, 0, channels);
        CheckRange(variance, 0, channels);
        float count = (long)n * hw;
        // Two passes (mean, then squared deviations from it): no cancellation of E[x^2] - E[x]^2.
        ChannelReduce(Term.Plain, x, null, null, n, channels, hw, count, mean, 0, accumulate: false);
        ChannelReduce(Term.SquaredDeviation, x, null, mean, n, channels, hw, count, variance, 0, accumulate: false);
    }

    public void BatchNormForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance,
                                 float eps, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y)
    {
        CheckBatchNormForward(x, n, channels, hw, mean, variance, gamma, beta, y);
        long total = (long)n * channels * hw;
        using var scale = Allocate(channels);
        Run("batchnorm_scale", Grid.Elements(channels), [Of(variance), eps, Of(gamma), channels, Of(scale)]);
        Run("batchnorm_forward", Grid.Elements(total), [Of(x), total, channels, hw, Of(mean), Of(scale), Of(beta), Of(y)]);
    }

    public void BatchNormBackward(DeviceBuffer x, DeviceBuffer dy, int n, int channels, int hw,
                                  DeviceBuffer mean, DeviceBuffer variance, float eps, DeviceBuffer? gamma,
                                  bool batchStatistics, DeviceBuffer dx, bool accumulateDx,
                                  DeviceBuffer? dgamma, DeviceBuffer? dbeta)
    {
        CheckBatchNormBackward(x, dy, n, channels, hw, mean, variance, gamma, dx, dgamma, dbeta);
        long total = (long)n * channels * hw;
        bool needSums = batchStatistics || dgamma != null || dbeta != null;
        int chunks = 0;
        using var sumDy = needSums ? ChannelPartials(Term.Plain, dy, null, null, n, channels, hw, out chunks) : null;
        using var sumCentered = needSums ? ChannelPartials(Term.CenteredProduct, x, dy, mean, n, channels, hw, out chunks) : null;
        using var coefficients = Allocate(3L * channels);
        Run("batchnorm_backward_coefficients", Grid.Elements(channels),
            [Of(sumDy), Of(sumCentered), chunks, Of(variance), eps, Of(gamma), channels, (float)((long)n * hw), batchStatistics,
             Of(coefficients), Of(dgamma), Of(dbeta)]);
        Run("batchnorm_backward_data", Grid.Elements(total), [Of(x), Of(dy), total, channels, hw, Of(mean), Of(coefficients), Of(dx), accumulateDx]);
    }
}
