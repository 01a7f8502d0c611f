using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Distributed;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    /// <summary>
    /// torch.nn.SyncBatchNorm's training forward: batch normalization with the current statistics of the
    /// global batch, the union of every rank's share. Forward all-reduces per channel the count, the sum and
    /// the sum of squares (from each rank's own mean and biased variance, in float64); backward all-reduces
    /// sum(dy) and sum(dy * xhat) and applies the batch-norm gradient
    /// dx = gamma / sigma * (dy - sum(dy) / M - xhat * sum(dy * xhat) / M) with the global sums and count M.
    /// dgamma and dbeta stay this rank's own sums: the gradient all-reduce averages them like every other
    /// gradient. Each rank's loss is the mean over its share, so dy is Size times dL/dy of the global mean
    /// loss, and after that average the gradients equal one process on the whole batch.
    /// Every rank must call it for the same layers in the same order (the all-reduces match by order).
    /// </summary>
    static Tensor SyncBatchNormAddActivation(Tensor x, Tensor? residual, UnaryOp? op, Tensor? runningMean, Tensor? runningVar,
                                             Tensor? weight, Tensor? bias, bool updateRunning, float momentum, float eps, IProcessGroup group)
    {
        int n = x.Shape[0], c = x.Shape[1];
        int hw = checked((int)(x.Numel / ((long)n * c)));
        var be = x.Backend;
        var (mean, variance, count) = GlobalMoments(x, n, c, hw, group);
        if (updateRunning)
        {
            be.Axpby(momentum, mean.Buffer, 1f - momentum, runningMean!.Buffer, c);
            be.Axpby((float)(momentum * count / (count - 1)), variance.Buffer, 1f - momentum, runningVar!.Buffer, c);
        }
        var y = Like(x);
        be.BatchNormAddActivationForward(x.Buffer, n, c, hw, mean.Buffer, variance.Buffer, eps, weight?.Buffer, bias?.Buffer,
                                         residual?.Buffer, op, y.Buffer);

        string name = "SyncBatchNorm" + (residual is null ? "" : "+Add") + (op is null ? "" : "+" + op);
        var recorded = RecordBatchNorm(y, name, x, residual, weight, bias, op,
                                       dz => SyncBatchNormBackward(x, dz, n, c, hw, mean, variance, count, eps, weight, bias, group));
        if (recorded.Node is null)
        {
            TensorScope.Release(mean);
            TensorScope.Release(variance);
        }
        return recorded;
    }

    /// <summary>The global batch's per-channel mean and biased variance, and its per-channel value count M.</summary>
    static (Tensor Mean, Tensor Variance, double Count) GlobalMoments(Tensor x, int n, int c, int hw, IProcessGroup group)
    {
        var mean = Like(x, [c]);
        var variance = Like(x, [c]);
        x.Backend.BatchNormStatistics(x.Buffer, n, c, hw, mean.Buffer, variance.Buffer);
        float[] m = mean.ToArray(), v = variance.ToArray();
        double local = (double)n * hw;
        var sums = new double[2 * c + 1];
        for (int i = 0; i < c; i++)
        {
            sums[i] = local * m[i];
            sums[c + i] = local * ((double)v[i] + (double)m[i] * m[i]);
        }
        sums[2 * c] = local;
        group.AllReduceSum(sums, "SyncBatchNorm's statistics");
        double count = sums[2 * c];
        for (int i = 0; i < c; i++)
        {
            double mu = sums[i] / count;
            m[i] = (float)mu;
            v[i] = (float)Math.Max(0, sums[c + i] / count - mu * mu);
        }
        mean.CopyFrom(m);
        variance.CopyFrom(v);
        return (mean, variance, count);
    }

    static void SyncBatchNormBackward(Tensor x, Tensor dy, int n, int c, int hw, Tensor mean, Tensor variance, double count, float eps,
                                      Tensor? weight, Tensor? bias, IProcessGroup group)
    {
        var be = x.Backend;
        // This rank's sum(dy * xhat) and sum(dy) (the dgamma, dbeta of a running-statistics backward, which
        // treats mean and variance as constants), and dx's dy * gamma / sigma part.
        using var sumDyXhat = be.Allocate(c);
        using var sumDy = be.Allocate(c);
        using var direct = be.Allocate(x.Numel);
        be.Fill(sumDyXhat, 0, c, 0f);
        be.Fill(sumDy, 0, c, 0f);
        be.BatchNormBackward(x.Buffer, dy.Buffer, n, c, hw, mean.Buffer, variance.Buffer, eps, weight?.Buffer,
                             false, direct, false, sumDyXhat, sumDy);
        var local = new float[2 * c];
        be.Download(sumDyXhat, 0, local.AsSpan(0, c));
        be.Download(sumDy, 0, local.AsSpan(c, c));
        if (weight is { RequiresGrad: true }) be.Axpby(1f, sumDyXhat, 1f, AdditiveGradSink(weight).Buffer, c);
        if (bias is { RequiresGrad: true }) be.Axpby(1f, sumDy, 1f, AdditiveGradSink(bias).Buffer, c);
        if (!x.RequiresGrad) return;

        var sums = Array.ConvertAll(local, f => (double)f);
        group.AllReduceSum(sums, "SyncBatchNorm's gradient sums");
        // dx = direct + (x - mean) / sigma * scale + shift: one batch-norm forward with weight = scale, bias = shift, residual = direct.
        float[] gamma = weight?.ToArray() ?? [], v = variance.ToArray();
        var scale = new float[c];
        var shift = new float[c];
        for (int i = 0; i < c; i++)
        {
            double k = (weight is null ? 1.0 : gamma[i]) / Math.Sqrt((double)v[i] + eps);
            scale[i] = (float)(-k * sums[i] / count);
            shift[i] = (float)(-k * sums[c + i] / count);
        }
        using var scaleBuffer = be.Allocate(c);
        using var shiftBuffer = be.Allocate(c);
        be.Upload(scale, scaleBuffer, 0);
        be.Upload(shift, shiftBuffer, 0);
        var (gx, accumulate) = x.GradSink();
        if (!accumulate)
        {
            be.BatchNormAddActivationForward(x.Buffer, n, c, hw, mean.Buffer, variance.Buffer, eps, scaleBuffer, shiftBuffer, direct, null, gx.Buffer);
            return;
        }
        using var dx = be.Allocate(x.Numel);
        be.BatchNormAddActivationForward(x.Buffer, n, c, hw, mean.Buffer, variance.Buffer, eps, scaleBuffer, shiftBuffer, direct, null, dx);
        be.Axpby(1f, dx, 1f, gx.Buffer, x.Numel);
    }
}
