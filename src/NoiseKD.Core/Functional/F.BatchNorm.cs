using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Distributed;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

/// <summary>
/// The activation a fused batch norm applies to its output: only those whose gradient mask can be read
/// from the output itself, so the fused op stores nothing but its output.
/// </summary>
public enum Activation
{
    None,
    /// <summary>max(z, 0)</summary>
    Relu,
    /// <summary>min(max(z, 0), 6)</summary>
    Relu6,
}

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
        => BatchNormAddActivation(x, null, Activation.None, runningMean, runningVar, weight, bias, useBatchStatistics, updateRunning, momentum, eps);

    /// <summary>
    /// y = act(batch_norm(x) + residual) as one op with one output tensor (cuDNN's BN_ADD_ACTIVATION): the
    /// conv-BN-ReLU and residual-block tails keep one activation alive for backward where BatchNorm, Add
    /// and Relu apart keep three. <paramref name="residual"/> may be null; the batch-norm arguments and
    /// semantics are those of <see cref="BatchNorm"/>. The backward pass reads act'(z) from y
    /// (relu(z) &gt; 0 iff z &gt; 0; 0 &lt; relu6(z) &lt; 6 iff 0 &lt; z &lt; 6, exactly), so z is never stored.
    /// With a <paramref name="group"/> of more than one rank, current statistics are those of the global
    /// batch (<see cref="SyncBatchNormAddActivation"/>).
    /// </summary>
    public static Tensor BatchNormAddActivation(Tensor x, Tensor? residual, Activation activation,
                                                Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
                                                bool useBatchStatistics, bool updateRunning = false, float momentum = 0.1f, float eps = 1e-5f,
                                                IProcessGroup? group = null)
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
        if (residual is not null) RequireSameShape(x, residual, "batch_norm + add");
        UnaryOp? op = activation switch
        {
            Activation.None => null,
            Activation.Relu => UnaryOp.Relu,
            Activation.Relu6 => UnaryOp.Relu6,
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
        };

        if (useBatchStatistics && group is { Size: > 1 })
            return SyncBatchNormAddActivation(x, residual, op, runningMean, runningVar, weight, bias, updateRunning, momentum, eps, group);

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
        be.BatchNormAddActivationForward(x.Buffer, n, c, hw, mean.Buffer, variance.Buffer, eps, weight?.Buffer, bias?.Buffer,
                                         residual?.Buffer, op, y.Buffer);

        string name = (useBatchStatistics ? "BatchNorm[current]" : "BatchNorm[running]")
                      + (residual is null ? "" : "+Add") + (op is null ? "" : "+" + op);
        var recorded = RecordBatchNorm(y, name, x, residual, weight, bias, op,
                                       dz => BatchNormBackward(x, dz, n, c, hw, mean, variance, eps, weight, bias, useBatchStatistics));
        // Without a node no backward closure holds the batch statistics: back to the pool now, not at the scope's end.
        if (useBatchStatistics && recorded.Node is null)
        {
            TensorScope.Release(mean);
            TensorScope.Release(variance);
        }
        return recorded;
    }

    /// <summary>
    /// Records a fused batch norm y = act(bn(x) + residual): its backward masks gy by act'(z), read from y, into dz
    /// (a transient buffer that goes back to the pool before the closure returns), adds dz to the residual's
    /// gradient and hands dz to <paramref name="batchNormBackward"/>.
    /// </summary>
    static Tensor RecordBatchNorm(Tensor y, string name, Tensor x, Tensor? residual, Tensor? weight, Tensor? bias, UnaryOp? op,
                                  Action<Tensor> batchNormBackward)
    {
        var inputs = new List<Tensor> { x };
        if (residual is not null) inputs.Add(residual);
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        return Tape.Record(y, name, inputs.ToArray(), gy =>
        {
            Tensor? masked = null;
            if (op is UnaryOp u)
            {
                masked = Like(x);
                x.Backend.UnaryBackward(u, 0f, y.Buffer, gy.Buffer, masked.Buffer, x.Numel, accumulate: false);
            }
            var dz = masked ?? gy;
            if (residual is { RequiresGrad: true }) AccumulateGrad(residual, dz);
            batchNormBackward(dz);
            masked?.Buffer.Dispose();
        });
    }

    /// <summary>dx (+)= and dgamma, dbeta += the batch-norm gradients for dy (x's gradient only if it needs one).</summary>
    static void BatchNormBackward(Tensor x, Tensor dy, int n, int c, int hw, Tensor mean, Tensor variance, float eps,
                                  Tensor? weight, Tensor? bias, bool useBatchStatistics)
    {
        if (!x.RequiresGrad && weight is not { RequiresGrad: true } && bias is not { RequiresGrad: true }) return; // only the residual needed one
        var be = x.Backend;
        var dgamma = weight is { RequiresGrad: true } ? AdditiveGradSink(weight) : null;
        var dbeta = bias is { RequiresGrad: true } ? AdditiveGradSink(bias) : null;
        if (x.RequiresGrad)
        {
            var (gx, acc) = x.GradSink();
            be.BatchNormBackward(x.Buffer, dy.Buffer, n, c, hw, mean.Buffer, variance.Buffer, eps, weight?.Buffer,
                                 useBatchStatistics, gx.Buffer, acc, dgamma?.Buffer, dbeta?.Buffer);
        }
        else
        {
            using var scratch = be.Allocate(x.Numel);
            be.BatchNormBackward(x.Buffer, dy.Buffer, n, c, hw, mean.Buffer, variance.Buffer, eps, weight?.Buffer,
                                 useBatchStatistics, scratch, false, dgamma?.Buffer, dbeta?.Buffer);
        }
    }
}
