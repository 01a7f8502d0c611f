using NoiseKD.Distillation.PreDfkd;
using NoiseKD.Functional;
using Xunit;

namespace NoiseKD.Tests.Ops;

/// <summary>The public PRE-DFKD code's extra terms against float64 references (forward, and backward by finite differences where differentiable).</summary>
public class PreDfkdTermTests
{
    [Theory]
    [InlineData(-0.5, 0.7)]
    [InlineData(0.01, 0.99)]
    public void Clamp(double low, double high)
    {
        OpCheck.Run($"clamp [{low}, {high}]", [OpInput.Of(6, 7).Range(-2, 2).AwayFrom((float)low, (float)high)],
            new RefOp(v => Reference.Map(v[0], x => Reference.Clamp(x, (float)low, (float)high)),
                      (v, dy) => [Reference.Zip(v[0], dy, (x, d) => x >= (float)low && x <= (float)high ? d : 0)]),
            t => F.Clamp(t[0], (float)low, (float)high));
    }

    /// <summary>Logits within [-2, 2] at T = 3: no probability reaches a clamp; the whole divergence is differentiable.</summary>
    [Theory]
    [InlineData(4, 10)]
    [InlineData(1, 3)]
    public void JsDivergenceWithoutActiveClamps(int n, int k) => CheckJs(n, k, 2, requireClamps: false);

    /// <summary>Logits within [-40, 40]: some P, Q and M fall below 0.01 (their gradient vanishes) and some rise above 0.99.</summary>
    [Theory]
    [InlineData(6, 10)]
    [InlineData(8, 3)]
    public void JsDivergenceWithActiveClamps(int n, int k) => CheckJs(n, k, 40, requireClamps: true);

    static void CheckJs(int n, int k, double range, bool requireClamps)
    {
        double t = JsDisagreement.Temperature;
        var options = new OpCheckOptions
        {
            // A 1e-6 step in the logits must not cross a clamp's edge; the clamped draws must really clamp.
            Accept = v =>
            {
                var p = Reference.Softmax(Reference.Map(v[1], x => x / t), n, k);
                var q = Reference.Softmax(Reference.Map(v[0], x => x / t), n, k);
                var m = Reference.Zip(p, q, (a, b) => (a + b) / 2);
                bool clear = p.Concat(q).Concat(m).All(x => Math.Abs(x - 0.01) > 1e-4 && Math.Abs(x - 0.99) > 1e-4);
                bool clamps = q.Any(x => x < 0.01) && q.Any(x => x > 0.99) && p.Any(x => x < 0.01) && m.Any(x => x < 0.01);
                bool none = p.Concat(q).Concat(m).All(x => x > 0.01 && x < 0.99);
                return clear && (requireClamps ? clamps : none);
            },
            // JS is a mean of terms about 100 times larger with both signs: float32 loses two digits to cancellation.
            ForwardTolerance = 1e-4,
            GradientTolerance = 1e-3,
        };
        OpCheck.Run($"js_divergence logits in +-{range}", [OpInput.Of(n, k).Range(-range, range), OpInput.Of(n, k).Range(-range, range).Constant()],
            new RefOp(v => [Reference.JsDivergence(v[0], v[1], n, k, t)],
                      (v, dy) => [Reference.JsDivergenceBackward(v[0], v[1], n, k, t, dy[0]), null]),
            x => JsDisagreement.Divergence(x[0], x[1]), options);
    }

    /// <summary>
    /// PyTorch 1.13's values of the same terms (tests/parity/pre_dfkd_terms.py), for the float64 reference and the
    /// float32 op: the second case has P, Q and M clamped at both ends. Identical logits give JS = 0.
    /// </summary>
    public static TheoryData<double[], double[], int, double, double[]> TorchJsCases => new()
    {
        { [5, -5, 0, 1, 2, 3], [-5, 5, 0, 3, 2, 1], 3, 0.14833916868499378,
          [0.014466226316066278, -0.010811536359599137, -0.003654689956467146, -0.002918492741512045, -0.0003304807010679123, 0.0032489734425799575] },
        { [30, -30, 0, 4, 1, 2, 3, -20], [-30, 30, 0, 1, 3, 2, 1, 25], 4, 0.3700011758249695,
          [1.1847841526549225e-05, 2.909346219001381e-14, -2.471560778912858e-06, -9.376280776719862e-06, -0.0009714168629784315, -0.0002448499857013525,
           0.001211744138951766, 4.522709728017014e-06] },
    };

    [Theory]
    [MemberData(nameof(TorchJsCases))]
    public void JsDivergenceMatchesPyTorch(double[] student, double[] teacher, int k, double expected, double[] expectedGrad)
    {
        int n = student.Length / k;
        Assert.Equal(expected, Reference.JsDivergence(student, teacher, n, k, JsDisagreement.Temperature), 12);
        Assert.InRange(OpCheck.RelativeError(Reference.JsDivergenceBackward(student, teacher, n, k, JsDisagreement.Temperature, 1), expectedGrad), 0, 1e-10);
        using var scope = new NoiseKD.Tensors.TensorScope();
        var s = NoiseKD.Tensors.Tensor.FromArray(OpCheck.ToFloat(student), [n, k]);
        s.RequiresGrad = true;
        var t = NoiseKD.Tensors.Tensor.FromArray(OpCheck.ToFloat(teacher), [n, k]);
        var js = JsDisagreement.Divergence(s, t);
        Assert.Equal(expected, js.Item(), 5);
        js.Backward();
        Assert.InRange(OpCheck.RelativeError(OpCheck.ToDouble(s.Grad!.ToArray()), expectedGrad), 0, 1e-3);
        Assert.Equal(0.0, JsDisagreement.Divergence(t, t).Item(), 6);
    }

    [Fact]
    public void LatentPriorPenaltyMatchesPyTorch()
    {
        double[] z = [0.5, -1.0, 2.0, 1.5, 0.25, -0.75, -1.0, 0.0, 1.0];
        double[] grad = [0.1388888888888889, 0.22569444444444445, 0.9479166666666666, 0.5277777777777779, -0.24305555555555555, -0.7708333333333334,
                         -0.44444444444444453, -0.14930555555555555, 0.32291666666666663];
        Assert.Equal(0.7572337962962963, Reference.LatentPriorPenalty(z, 3, 3), 12);
        Assert.InRange(OpCheck.RelativeError(Reference.LatentPriorPenaltyBackward(z, 3, 3, 1), grad), 0, 1e-12);
        using var scope = new NoiseKD.Tensors.TensorScope();
        var zt = NoiseKD.Tensors.Tensor.FromArray(OpCheck.ToFloat(z), [3, 3]);
        zt.RequiresGrad = true;
        var penalty = LatentTuning.PriorPenalty(zt);
        Assert.Equal(0.7572337962962963, penalty.Item(), 5);
        penalty.Backward();
        Assert.InRange(OpCheck.RelativeError(OpCheck.ToDouble(zt.Grad!.ToArray()), grad), 0, 1e-5);
    }

    [Theory]
    [InlineData(8, 5)]
    [InlineData(2, 3)]
    [InlineData(16, 1)]
    public void LatentPriorPenalty(int n, int latent)
    {
        OpCheck.Run("latent_prior_penalty", [OpInput.Of(n, latent).Range(-2, 2)],
            new RefOp(v => [Reference.LatentPriorPenalty(v[0], n, latent)], (v, dy) => [Reference.LatentPriorPenaltyBackward(v[0], n, latent, dy[0])]),
            t => LatentTuning.PriorPenalty(t[0]), new OpCheckOptions { ForwardTolerance = 1e-4, GradientTolerance = 1e-4 });
    }

    /// <summary>oh * CE(x, argmax x) + ie * sum pbar log10 pbar with DAFL's weights (1, 5) and others.</summary>
    [Theory]
    [InlineData(6, 10, 1.0, 5.0)]
    [InlineData(3, 4, 0.5, 2.0)]
    public void ClassTerms(int n, int k, double oneHot, double entropy)
    {
        var objective = new GeneratorObjective((float)oneHot, (float)entropy);
        var options = new OpCheckOptions
        {
            // The labels are the argmax: rows whose top two logits nearly tie are redrawn.
            Accept = v => Enumerable.Range(0, n).All(r => v[0].Skip(r * k).Take(k).OrderDescending().Take(2).Aggregate((a, b) => a - b) > 1e-3),
        };
        OpCheck.Run("class_terms", [OpInput.Of(n, k).Range(-3, 3)],
            new RefOp(v => [oneHot * Reference.CrossEntropy(v[0], Reference.ArgMaxRows(v[0], n, k), k, 0) - entropy / Math.Log(10) * Reference.MeanSoftmaxEntropy(v[0], n, k)],
                      (v, dy) => [Reference.Zip(Reference.CrossEntropyBackward(v[0], Reference.ArgMaxRows(v[0], n, k), k, 0, dy[0] * oneHot),
                                                Reference.MeanSoftmaxEntropyBackward(v[0], n, k, -dy[0] * entropy / Math.Log(10)), (a, b) => a + b)]),
            t => objective.ClassTerms(t[0]), options);
    }
}
