using NoiseKD.Autograd;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

/// <summary>Losses, composed from the differentiable ops above (each reduces to a 0-d mean over the batch).</summary>
public static partial class F
{
    /// <summary>
    /// torch.nn.functional.cross_entropy(logits, labels, label_smoothing=e): the mean over rows of
    /// -sum_j q_j log softmax(x)_j with q = (1-e) onehot(label) + e/K.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, ReadOnlySpan<int> labels, float labelSmoothing = 0f)
    {
        RequireRank(logits, 2, "cross_entropy logits");
        int n = logits.Shape[0], k = logits.Shape[1];
        if (labels.Length != n) throw new ArgumentException($"cross_entropy: {labels.Length} labels for {n} rows");
        if (labelSmoothing < 0f || labelSmoothing > 1f) throw new ArgumentException($"cross_entropy: label smoothing {labelSmoothing} outside [0, 1]");
        var q = new float[(long)n * k];
        Array.Fill(q, labelSmoothing / k);
        for (int i = 0; i < n; i++)
        {
            if ((uint)labels[i] >= (uint)k) throw new ArgumentException($"cross_entropy: label {labels[i]} at row {i} outside [0, {k})");
            q[(long)i * k + labels[i]] += 1f - labelSmoothing;
        }
        var target = Tensor.FromArray(q, [n, k], logits.Backend);
        return Scale(Sum(Mul(target, LogSoftmax(logits))), -1f / n);
    }

    /// <summary>
    /// Hinton's distillation loss: KL(softmax(t/T) || softmax(s/T)) averaged over the batch
    /// (KLDivLoss reduction 'batchmean') and scaled by T^2 so gradient sizes do not depend on T.
    /// The teacher is a constant.
    /// </summary>
    public static Tensor KdLoss(Tensor student, Tensor teacher, float temperature)
    {
        var (pTeacher, logPTeacher) = TeacherDistribution(student, teacher, temperature, "kd_loss");
        var logPStudent = LogSoftmax(Scale(student, 1f / temperature));
        float t2 = temperature * temperature;
        return Scale(Sum(Mul(pTeacher, Sub(logPTeacher, logPStudent))), t2 / student.Shape[0]);
    }

    /// <summary>
    /// Cross-entropy against the teacher's soft targets, -mean_rows sum_j softmax(t/T)_j log softmax(s/T)_j,
    /// as in the Gaussian-noise KD paper's code (used at T = 1; no T^2 factor). It differs from
    /// <see cref="KdLoss"/> at T = 1 only by the teacher's entropy, a constant, so gradients agree.
    /// </summary>
    public static Tensor SoftTargetCrossEntropy(Tensor student, Tensor teacher, float temperature = 1f)
    {
        var (pTeacher, _) = TeacherDistribution(student, teacher, temperature, "soft_target_cross_entropy");
        var logPStudent = LogSoftmax(Scale(student, 1f / temperature));
        return Scale(Sum(Mul(pTeacher, logPStudent)), -1f / student.Shape[0]);
    }

    /// <summary>Mean absolute error (torch.nn.functional.l1_loss), used on logits by DFAD/PRE-DFKD.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target) => Mean(Abs(Sub(input, target)));

    /// <summary>Mean squared error (torch.nn.functional.mse_loss).</summary>
    public static Tensor MseLoss(Tensor input, Tensor target) => Mean(Square(Sub(input, target)));

    /// <summary>
    /// Entropy of the batch-mean softmax, H(mean_i softmax(x_i)) = -sum_j p_j log p_j: DAFL's information
    /// entropy term (Chen et al. 2019, Eq. 5), maximized so a generator's batch covers all classes evenly.
    /// DAFL's code uses log10, i.e. this divided by ln 10. A class whose mean probability underflows to 0
    /// (logit gaps over ~100, e.g. a confident teacher on a few samples) adds 0, the limit of p log p, where
    /// PyTorch's p * log(p) gives NaN: the log reads p clamped to at least 1e-30, which changes nothing else.
    /// </summary>
    public static Tensor MeanSoftmaxEntropy(Tensor logits)
    {
        RequireRank(logits, 2, "mean_softmax_entropy logits");
        var p = MeanOverBatch(Softmax(logits));
        return Neg(Sum(Mul(p, Log(Clamp(p, 1e-30f, 1f)))));
    }

    static (Tensor P, Tensor LogP) TeacherDistribution(Tensor student, Tensor teacher, float temperature, string op)
    {
        RequireRank(student, 2, op + " student logits");
        RequireSameShape(student, teacher, op);
        if (!(temperature > 0f)) throw new ArgumentException($"{op}: temperature {temperature} must be positive");
        using var _ = Tape.NoGrad();
        var scaled = Scale(teacher.Detach(), 1f / temperature);
        return (Softmax(scaled), LogSoftmax(scaled));
    }
}
