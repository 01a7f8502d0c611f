using NoiseKD.Autograd;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    /// <summary>
    /// torch.nn.functional.batch_norm over x [N, C, *]. With <paramref name="useBatchStatistics"/>
    /// the layer normalizes with the current batch's mean and biased variance (the "current statistics"
    /// of Raikwar &amp; Mishra); otherwise with the running buffers. When <paramref name="updateRunning"/>
    /// the running buffers move towards the batch statistics: r = (1-m) r + m s, with the unbiased
    /// variance n/(n-1) var, as PyTorch does. Running buffers are updated in place, outside autograd.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
                                   bool useBatchStatistics, bool updateRunning = false, float momentum = 0.1f, float eps = 1e-5f)
    {
        if (x.Rank < 2) throw new ArgumentException($"batch_norm: input {Shape.Format(x.Shape)} needs [N, C, *]");
        int n = x.Shape[0], c = x.Shape[1];
        int hw = checked((int)(x.Numel / ((long)n * c)));
        foreach (var (t, what) in new[] { (runningMean, "running_mean"), (runningVar, "running_var"), (weight, "weight"), (bias, "bias") })
            if (t is not null && (t.Rank != 1 || t.Shape[0] != c))
                throw new ArgumentException($"batch_norm: {what} {Shape.Format(t.Shape)} must be [{c}] for input {Shape.Format(x.Shape)}");
        if (!useBatchStatistics && (runningMean is null || runningVar is null))
            throw new ArgumentException("batch_norm: running statistics requested but the layer tracks none");
        if (updateRunning && (runningMean is null || runningVar is null))
            throw new ArgumentException("batch_norm: cannot update running statistics the layer does not track");

        var be = x.Backend;
        Tensor mean, variance;
        if (useBatchStatistics)
        {
            long count = (long)n * hw;
            if (count < 2)
                throw new ArgumentException($"batch_norm: batch statistics need more than 1 value per channel, input {Shape.Format(x.Shape)}");
            mean = Like(x, [c]);
            variance = Like(x, [c]);
            be.BatchNormStatistics(x.Buffer, n, c, hw, mean.Buffer, variance.Buffer);
            if (updateRunning)
            {
                be.Axpby(momentum, mean.Buffer, 1f - momentum, runningMean!.Buffer, c);
                be.Axpby(momentum * count / (count - 1f), variance.Buffer, 1f - momentum, runningVar!.Buffer, c);
            }
        }
        else
        {
            mean = runningMean!;
            variance = runningVar!;
        }

        var y = Like(x);
        be.BatchNormForward(x.Buffer, n, c, hw, mean.Buffer, variance.Buffer, eps, weight?.Buffer, bias?.Buffer, y.Buffer);

        var inputs = new List<Tensor> { x };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        return Tape.Record(y, useBatchStatistics ? "BatchNorm[current]" : "BatchNorm[running]", inputs.ToArray(), gy =>
        {
            var dgamma = weight is { RequiresGrad: true } ? AdditiveGradSink(weight) : null;
            var dbeta = bias is { RequiresGrad: true } ? AdditiveGradSink(bias) : null;
            if (x.RequiresGrad)
            {
                var (gx, acc) = x.GradSink();
                be.BatchNormBackward(x.Buffer, gy.Buffer, n, c, hw, mean.Buffer, variance.Buffer, eps, weight?.Buffer,
                                     useBatchStatistics, gx.Buffer, acc, dgamma?.Buffer, dbeta?.Buffer);
            }
            else
            {
                using var scratch = be.Allocate(x.Numel);
                be.BatchNormBackward(x.Buffer, gy.Buffer, n, c, hw, mean.Buffer, variance.Buffer, eps, weight?.Buffer,
                                     useBatchStatistics, scratch, false, dgamma?.Buffer, dbeta?.Buffer);
            }
        });
    }
}
