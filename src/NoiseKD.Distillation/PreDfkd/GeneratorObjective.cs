using NoiseKD.Functional;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>How the generator is rewarded for samples the student gets wrong.</summary>
public enum AdversarialTerm
{
    /// <summary>Minus the student's KD loss (--loss, L1 by default) against the teacher, gradient through both (DFAD; unbounded).</summary>
    Loss,
    /// <summary>1 - clamp(JS at T = 3) against the detached teacher, as the public PRE-DFKD code (<see cref="JsDisagreement"/>).</summary>
    Js,
}

/// <summary>
/// The novel generator's loss: DAFL's terms that make samples look like the teacher's training data
/// (Chen et al. 2019, Eq. 6: one-hot cross-entropy on the teacher's argmax, the information entropy of
/// the batch-mean teacher softmax, maximized, and the L1 activation of the teacher's features, maximized)
/// plus an adversarial term on the teacher-student disagreement (the generator seeks samples the student
/// gets wrong). Weights default to DAFL's oh = 1, ie = 5, a = 0.1; the entropy is in base 10 as in DAFL's code.
/// </summary>
public sealed record GeneratorObjective(float OneHot = 1f, float Entropy = 5f, float Activation = 0.1f, float Adversarial = 1f,
                                        AdversarialTerm Disagreement = AdversarialTerm.Loss)
{
    /// <summary>oh * CE(teacher, argmax teacher) + ie * sum_k pbar_k log10 pbar_k: the terms PRE-DFKD also tunes replay latents on.</summary>
    public Tensor ClassTerms(Tensor teacherLogits)
    {
        var logits = teacherLogits.ToArray();
        int n = teacherLogits.Shape[0], k = teacherLogits.Shape[1];
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = Training.Evaluator.ArgMax(logits.AsSpan(i * k, k));
        return F.Add(F.Scale(F.CrossEntropy(teacherLogits, labels), OneHot), F.Scale(F.MeanSoftmaxEntropy(teacherLogits), -Entropy / MathF.Log(10f)));
    }

    /// <summary>The generator's loss and the disagreement it reports (the KD loss, or the clamped JS divergence).</summary>
    public (Tensor Loss, Tensor Disagreement) Loss(Tensor teacherLogits, Tensor teacherFeatures, Tensor studentLogits, KdObjective disagreement)
    {
        var match = F.Add(ClassTerms(teacherLogits), F.Scale(F.Mean(F.Abs(teacherFeatures)), -Activation));
        if (Disagreement == AdversarialTerm.Js)
        {
            var js = JsDisagreement.Divergence(studentLogits, teacherLogits);
            return (F.Add(match, F.Scale(F.AddScalar(F.Neg(js), 1f), Adversarial)), js);
        }
        var gap = disagreement.Loss(studentLogits, teacherLogits);
        return (F.Sub(match, F.Scale(gap, Adversarial)), gap);
    }
}
