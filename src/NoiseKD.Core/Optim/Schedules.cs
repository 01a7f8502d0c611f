namespace NoiseKD.Optim;

/// <summary>
/// An epoch-indexed learning-rate schedule (torch.optim.lr_scheduler): call <see cref="Step"/> once per
/// epoch; the rate is a closed-form function of the epoch count and the optimizer's initial rate.
/// </summary>
public abstract class LrSchedule(Optimizer optimizer)
{
    public Optimizer Optimizer { get; } = optimizer;
    /// <summary>Epochs completed (PyTorch's last_epoch).</summary>
    public int Epoch { get; private set; }

    public void Step()
    {
        Epoch++;
        Optimizer.LearningRate = RateAt(Epoch);
    }

    /// <summary>Sets the epoch counter (when resuming) and the matching rate.</summary>
    public void Resume(int epoch)
    {
        Epoch = epoch;
        Optimizer.LearningRate = RateAt(epoch);
    }

    public abstract float RateAt(int epoch);
}

/// <summary>StepLR: lr0 * gamma^floor(epoch / stepSize).</summary>
public sealed class StepLr(Optimizer optimizer, int stepSize, float gamma = 0.1f) : LrSchedule(optimizer)
{
    public override float RateAt(int epoch) => Optimizer.InitialLearningRate * MathF.Pow(gamma, epoch / Math.Max(1, stepSize));
}

/// <summary>MultiStepLR: lr0 * gamma^(number of milestones reached).</summary>
public sealed class MultiStepLr(Optimizer optimizer, IEnumerable<int> milestones, float gamma = 0.1f) : LrSchedule(optimizer)
{
    readonly int[] _milestones = milestones.Order().ToArray();
    public override float RateAt(int epoch) => Optimizer.InitialLearningRate * MathF.Pow(gamma, _milestones.Count(m => m <= epoch));
}

/// <summary>CosineAnnealingLR (Loshchilov &amp; Hutter 2017, SGDR eq. 5 without restarts): eta_min + (lr0 - eta_min)(1 + cos(pi t/T))/2.</summary>
public sealed class CosineLr(Optimizer optimizer, int tMax, float etaMin = 0f) : LrSchedule(optimizer)
{
    public override float RateAt(int epoch)
    {
        double t = Math.Min(epoch, tMax);
        return (float)(etaMin + (Optimizer.InitialLearningRate - etaMin) * (1 + Math.Cos(Math.PI * t / Math.Max(1, tMax))) / 2);
    }
}

/// <summary>
/// ReduceLROnPlateau: multiply the rate by <c>factor</c> when the watched metric has not improved
/// (relative threshold, PyTorch's default 'rel' mode) for more than <c>patience</c> epochs.
/// </summary>
public sealed class ReduceLrOnPlateau(Optimizer optimizer, bool maximize = false, float factor = 0.1f, int patience = 10,
                                      float threshold = 1e-4f, int cooldown = 0, float minLr = 0f)
{
    double _best = maximize ? double.NegativeInfinity : double.PositiveInfinity;
    int _badEpochs, _cooldownLeft;

    public Optimizer Optimizer { get; } = optimizer;

    public void Step(double metric)
    {
        // PyTorch's 'rel' comparison, literally best * (1 -/+ threshold).
        bool better = maximize ? metric > _best * (1 + threshold) : metric < _best * (1 - threshold);
        if (better) { _best = metric; _badEpochs = 0; }
        else _badEpochs++;
        if (_cooldownLeft > 0) { _cooldownLeft--; _badEpochs = 0; }
        if (_badEpochs > patience)
        {
            Optimizer.LearningRate = Math.Max(Optimizer.LearningRate * factor, minLr);
            _cooldownLeft = cooldown;
            _badEpochs = 0;
        }
    }
}
