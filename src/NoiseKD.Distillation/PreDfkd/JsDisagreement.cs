using NoiseKD.Functional;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// The public PRE-DFKD code's bounded teacher-student disagreement (its utils/aux.py JS_divergence): the
/// Jensen-Shannon divergence at temperature 3 between P = softmax(teacher / 3), a constant, and
/// Q = softmax(student / 3), with M = (P + Q) / 2 formed before P, Q and M are each clamped to [0.01, 0.99],
/// and each KL averaged over all batch x class elements (nn.KLDivLoss's default 'mean' reduction), then
/// clamped to [0, 1]. The generator minimizes 1 - JS (<see cref="GeneratorObjective"/>). Where a clamp is active the gradient is zero.
/// </summary>
public static class JsDisagreement
{
    public const float Temperature = 3f;
    const float Floor = 0.01f, Ceiling = 0.99f;

    /// <summary>clamp(JS(P, Q), 0, 1) as above, differentiable in the student's logits only.</summary>
    public static Tensor Divergence(Tensor studentLogits, Tensor teacherLogits)
    {
        var p = F.Softmax(F.Scale(teacherLogits.Detach(), 1f / Temperature));
        var q = F.Softmax(F.Scale(studentLogits, 1f / Temperature));
        var m = F.Clamp(F.Scale(F.Add(p, q), 0.5f), Floor, Ceiling);
        var logM = F.Log(m);
        // nn.KLDivLoss()(log x, M) = mean(M * (log M - log x)).
        Tensor Kl(Tensor x) => F.Mean(F.Mul(m, F.Sub(logM, F.Log(F.Clamp(x, Floor, Ceiling)))));
        return F.Clamp(F.Scale(F.Add(Kl(p), Kl(q)), 0.5f), 0f, 1f);
    }
}
