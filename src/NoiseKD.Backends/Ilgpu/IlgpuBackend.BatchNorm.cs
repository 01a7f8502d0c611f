using NoiseKD.Kernels;
using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Ilgpu;

// Batch normalization over [N, C, HW]: kernels/BatchNorm.cs on top of the channel moments of kernels/Reduce.cs.
public sealed partial class IlgpuBackend
{
    public void BatchNormStatistics(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance)
    {
        CheckRange(x, 0, (long)n * channels * hw);
        CheckRange(mean, 0, channels);
        CheckRange(variance, 0, channels);
        // One pass over x: sums shifted by each channel's first value (as the CPU backend does).
        using var partials = Moments(x, x, null, n, channels, hw, ShiftFrom.FirstValue, out int chunks);
        Kernels.BatchNorm.Statistics(Elements(channels), V(x), Doubles(partials), V(mean), V(variance),
                                     new BatchNormParams(n, channels, hw, 0f, OpCodes.Identity, false, false, false, true, false, chunks));
    }

    public void BatchNormForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance,
                                 float eps, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y)
        => BatchNormAddActivationForward(x, n, channels, hw, mean, variance, eps, gamma, beta, null, null, y);

    /// <summary>One kernel over x (and the residual) instead of the interface default's three passes over y.</summary>
    public void BatchNormAddActivationForward(DeviceBuffer x, int n, int channels, int hw, DeviceBuffer mean, DeviceBuffer variance,
                                              float eps, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer? residual,
                                              UnaryOp? activation, DeviceBuffer y)
    {
        CheckBatchNormForward(x, n, channels, hw, mean, variance, gamma, beta, y);
        CheckBatchNormAddActivationForward(x, n, channels, hw, residual, activation, y);
        long total = Count((long)n * channels * hw);
        var p = new BatchNormParams(n, channels, hw, eps, activation is UnaryOp op ? (int)op : OpCodes.Identity,
                                    gamma != null, beta != null, residual != null, false, false, 0);
        using var scale = Allocate(channels);
        Kernels.BatchNorm.Scale(Elements(channels), V(variance), Optional(gamma), V(scale), p);
        if (total > 0) Kernels.BatchNorm.Forward(Elements(total), V(x), V(mean), V(scale), Optional(beta), Optional(residual), V(y), p);
    }

    public void BatchNormBackward(DeviceBuffer x, DeviceBuffer dy, int n, int channels, int hw,
                                  DeviceBuffer mean, DeviceBuffer variance, float eps, DeviceBuffer? gamma,
                                  bool batchStatistics, DeviceBuffer dx, bool accumulateDx,
                                  DeviceBuffer? dgamma, DeviceBuffer? dbeta)
    {
        CheckBatchNormBackward(x, dy, n, channels, hw, mean, variance, gamma, dx, dgamma, dbeta);
        long total = Count((long)n * channels * hw);
        bool needSums = batchStatistics || dgamma != null || dbeta != null;
        int chunks = 0;
        // One pass over x and dy: sum(dy) and sum((x - mean) * dy) per channel.
        using var partials = needSums ? Moments(x, dy, mean, n, channels, hw, ShiftFrom.View, out chunks) : Allocate(2);
        var p = new BatchNormParams(n, channels, hw, eps, OpCodes.Identity, gamma != null, false, false, batchStatistics, accumulateDx, chunks);
        using var coefficients = Allocate(3L * channels);
        Kernels.BatchNorm.BackwardCoefficients(Elements(channels), Doubles(partials), V(variance), Optional(gamma), V(coefficients),
                                               Optional(dgamma), Optional(dbeta), p);
        if (total > 0) Kernels.BatchNorm.BackwardData(Elements(total), V(x), V(dy), V(mean), V(coefficients), V(dx), p);
    }
}
