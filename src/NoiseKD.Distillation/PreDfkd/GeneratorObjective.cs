using NoiseKD.Functional;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// The novel generator's loss: DAFL's terms that make samples look like the teacher's training data
/// (Chen et al. 2019, Eq. 6: one-hot cross-entropy on the teacher's argmax, the information entropy of
/// the batch-mean teacher softmax, maximized, and the L1 activation of the teacher's penultimate
/// features, maximized) minus the teacher-student disagreement (DFAD, Fang et al. 2019: the generator
/// seeks samples the student gets wrong). Weights default to DAFL's oh = 1, ie = 5, a = 0.1; the entropy
/// is in base 10 as in DAFL's code.
/// </summary>
public sealed record GeneratorObjective(float OneHot = 1f, float Entropy = 5f, float Activation = 0.1f, float Adversarial = 1f)
{
    public (Tensor Loss, Tensor Disagreement) Loss(Tensor teacherLogits, Tensor teacherFeatures, Tensor studentLogits, KdObjective disagreement)
    {
        var logits = teacherLogits.ToArray();
        int n = teacherLogits.Shape[0], k = teacherLogits.Shape[1];
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = Training.Evaluator.ArgMax(logits.AsSpan(i * k, k));
        var match = F.Add(F.Add(F.Scale(F.CrossEntropy(teacherLogits, labels), OneHot),
                                F.Scale(F.MeanSoftmaxEntropy(teacherLogits), -Entropy / MathF.Log(10f))),
                          F.Scale(F.Mean(F.Abs(teacherFeatures)), -Activation));
        var gap = disagreement.Loss(studentLogits, teacherLogits);
        return (F.Sub(match, F.Scale(gap, Adversarial)), gap);
    }
}
