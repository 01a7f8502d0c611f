using NoiseKD.Distributed;
using NoiseKD.Functional;
using NoiseKD.Tensors;

namespace NoiseKD.Nn;

/// <summary>Which statistics a BatchNorm layer normalizes with.</summary>
public enum BnStatistics
{
    /// <summary>The running mean and variance accumulated during training (PyTorch's eval mode).</summary>
    Running,
    /// <summary>The current batch's mean and variance (PyTorch's train mode; the noise-KD paper's "CS").</summary>
    Current,
}

/// <summary>
/// Batch normalization over channel axis 1 of [N, C] or [N, C, L] (BatchNorm1d) and [N, C, H, W]
/// (BatchNorm2d). Its statistics source is chosen per layer and independent of train/eval:
/// <see cref="Statistics"/> overrides PyTorch's rule (train: Current, eval: Running), and
/// <see cref="UpdateRunningStatistics"/> overrides whether a Current-statistics forward moves the
/// running buffers (PyTorch: only in training). This is what lets a teacher run in eval mode on
/// current statistics without its running buffers changing.
/// </summary>
public class BatchNorm : Module
{
    long _batchesTracked;

    public BatchNorm(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    {
        if (numFeatures <= 0) throw new ArgumentException($"BatchNorm({numFeatures}): feature count must be positive");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        if (affine)
        {
            Weight = RegisterParameter("weight", () => Tensor.Ones([numFeatures]));
            Bias = RegisterParameter("bias", () => Tensor.Zeros([numFeatures]));
        }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", () => Tensor.Zeros([numFeatures]));
            RunningVar = RegisterBuffer("running_var", () => Tensor.Ones([numFeatures]));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", () => Tensor.Zeros([]));
        }
    }

    public int NumFeatures { get; }
    public float Eps { get; }
    /// <summary>Running-average factor; null means a cumulative average (PyTorch's momentum=None).</summary>
    public float? Momentum { get; set; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public Tensor? RunningMean { get; }
    public Tensor? RunningVar { get; }
    public Tensor? NumBatchesTracked { get; }

    /// <summary>Forces Running or Current statistics; null follows train/eval as PyTorch does.</summary>
    public BnStatistics? Statistics { get; set; }

    /// <summary>Forces whether Current-statistics forwards update the running buffers; null: only in training.</summary>
    public bool? UpdateRunningStatistics { get; set; }

    /// <summary>
    /// torch.nn.SyncBatchNorm's process group: with more than one rank, current statistics are those of the
    /// global batch (every rank's share); null normalizes each rank's own share (DDP's default).
    /// </summary>
    public IProcessGroup? ProcessGroup { get; set; }

    /// <summary>The statistics the next forward will use.</summary>
    public BnStatistics EffectiveStatistics =>
        RunningMean is null ? BnStatistics.Current : Statistics ?? (Training ? BnStatistics.Current : BnStatistics.Running);

    protected override Tensor OnForward(Tensor input) => Normalize(input, null, Activation.None);

    /// <summary>
    /// act(this layer's output + residual) as one fused op (<see cref="F.BatchNormAddActivation"/>): one
    /// tensor kept for backward where BatchNorm, Add and the activation apart keep three, with the same
    /// statistics, running-buffer update and output. With a forward hook attached the layer runs unfused
    /// (<see cref="Module.Forward(Tensor)"/>, then add, then activation), so that its hooks still see its own
    /// input and output.
    /// </summary>
    public Tensor Forward(Tensor input, Activation activation, Tensor? residual = null)
    {
        if (HasForwardHooks)
        {
            var y = Forward(input);
            if (residual is not null) y = F.Add(y, residual);
            return activation switch
            {
                Activation.None => y,
                Activation.Relu => F.Relu(y),
                Activation.Relu6 => F.Relu6(y),
                _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
            };
        }
        long start = StartTiming();
        var output = Normalize(input, residual, activation);
        EndTiming(start);
        return output;
    }

    Tensor Normalize(Tensor input, Tensor? residual, Activation activation)
    {
        if (input.Rank < 2 || input.Shape[1] != NumFeatures)
            throw new ArgumentException($"{GetType().Name}({NumFeatures}): input {Shape.Format(input.Shape)} must have {NumFeatures} channels on axis 1");
        bool current = EffectiveStatistics == BnStatistics.Current;
        bool update = current && RunningMean is not null && (UpdateRunningStatistics ?? Training);
        float factor = 0f;
        if (update)
        {
            _batchesTracked++;
            input.Backend.Affine(1f, NumBatchesTracked!.Buffer, 1f, NumBatchesTracked.Buffer, 1);
            factor = Momentum ?? 1f / _batchesTracked;
        }
        return F.BatchNormAddActivation(input, residual, activation, RunningMean, RunningVar, Weight, Bias, current, update, factor, Eps, ProcessGroup);
    }

    /// <summary>torch's reset_running_stats(): mean 0, variance 1, no batches tracked.</summary>
    public void ResetRunningStatistics()
    {
        if (RunningMean is null) return;
        RunningMean.Backend.Fill(RunningMean.Buffer, 0, NumFeatures, 0f);
        RunningVar!.Backend.Fill(RunningVar.Buffer, 0, NumFeatures, 1f);
        NumBatchesTracked!.Backend.Fill(NumBatchesTracked.Buffer, 0, 1, 0f);
        _batchesTracked = 0;
    }

    protected override void OnStateLoaded()
    {
        if (NumBatchesTracked is not null) _batchesTracked = (long)NumBatchesTracked.Item();
    }
}

/// <summary>torch.nn.BatchNorm1d: input [N, C] or [N, C, L].</summary>
public sealed class BatchNorm1d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats);

/// <summary>torch.nn.BatchNorm2d: input [N, C, H, W].</summary>
public sealed class BatchNorm2d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats);
