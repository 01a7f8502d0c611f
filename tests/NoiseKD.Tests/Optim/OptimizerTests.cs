using NoiseKD.Functional;
using NoiseKD.Optim;
using NoiseKD.Tensors;
using NoiseKD.Tests.Ops;
using Xunit;

namespace NoiseKD.Tests.Optim;

/// <summary>
/// Optimizers over three steps with fixed gradients against float64 loops of torch.optim's update
/// rules; learning-rate schedules against values computed by hand from PyTorch's definitions;
/// ZeroGrad semantics.
/// </summary>
public class OptimizerTests
{
    const int Steps = 3;
    static readonly int[][] Shapes = [[3, 5], [7]];

    /// <summary>Two parameters and a gradient for each at each step, seeded.</summary>
    static (double[][] Initial, double[][][] Grads) Problem(int seed)
    {
        var rng = new Random(seed);
        var initial = Shapes.Select(s => OpCheck.Draw(Reference.Numel(s), -1, 1, rng)).ToArray();
        var grads = Enumerable.Range(0, Steps)
            .Select(_ => Shapes.Select(s => OpCheck.Draw(Reference.Numel(s), -1, 1, rng)).ToArray()).ToArray();
        return (initial, grads);
    }

    static Tensor OneParameter()
    {
        using (TensorScope.Suspend())
        {
            var p = Tensor.Zeros([1]);
            p.RequiresGrad = true;
            return p;
        }
    }

    static Tensor[] Parameters(double[][] initial)
    {
        using (TensorScope.Suspend())
            return initial.Select((v, i) =>
            {
                var p = Tensor.FromArray(OpCheck.ToFloat(v), Shapes[i]);
                p.RequiresGrad = true;
                return p;
            }).ToArray();
    }

    /// <summary>Gives the first <paramref name="count"/> parameters (all by default) the gradient g through autograd: backward of sum(p * g).</summary>
    static void SetGradients(Tensor[] parameters, double[][] grads, int? count = null)
    {
        using var scope = new TensorScope();
        Tensor? loss = null;
        for (int i = 0; i < (count ?? parameters.Length); i++)
        {
            var term = F.Sum(F.Mul(parameters[i], Tensor.FromArray(OpCheck.ToFloat(grads[i]), Shapes[i])));
            loss = loss is null ? term : F.Add(loss, term);
        }
        loss!.Backward();
    }

    /// <summary>Compares the total update p - p0 (float32 rounding of p itself would hide a wrong small step).</summary>
    static void AssertUpdate(Tensor parameter, double[] initial, double[] expected, string what)
    {
        double error = OpCheck.RelativeError(Sub(OpCheck.ToDouble(parameter.ToArray()), initial), Sub(expected, initial));
        Assert.True(error <= 1e-5, $"{what}: update relative error {error:E2}");
    }

    /// <summary>Runs the optimizer for three steps and compares each step's total update p_t - p_0 with the reference.</summary>
    static void Compare(Func<Tensor[], Optimizer> create, Func<double[], double[][], int, double[][]> reference, int seed)
    {
        var (initial, grads) = Problem(seed);
        var parameters = Parameters(initial);
        var optimizer = create(parameters);
        for (int step = 0; step < Steps; step++)
        {
            optimizer.ZeroGrad();
            SetGradients(parameters, grads[step]);
            optimizer.Step();
            for (int i = 0; i < parameters.Length; i++)
            {
                var expected = reference(initial[i], grads.Select(g => g[i]).ToArray(), step + 1);
                AssertUpdate(parameters[i], initial[i], expected[step], $"parameter {i} after step {step + 1}");
            }
        }
        Assert.Equal(Steps, optimizer.StepCount);
    }

    static double[] Sub(double[] a, double[] b) => a.Select((v, i) => v - b[i]).ToArray();

    /// <summary>
    /// torch.optim.SGD, literally: d = g + wd p; buf = d on the first step, else momentum buf + (1 - dampening) d;
    /// d = nesterov ? d + momentum buf : buf; p -= lr d. Returns p after each of the first <paramref name="steps"/> steps.
    /// </summary>
    static double[][] SgdReference(double[] p0, double[][] grads, int steps, double lr, double momentum, double dampening,
                                   double weightDecay, bool nesterov)
    {
        var p = (double[])p0.Clone();
        double[]? buf = null;
        var history = new double[steps][];
        for (int t = 0; t < steps; t++)
        {
            var d = new double[p.Length];
            for (int i = 0; i < p.Length; i++) d[i] = grads[t][i] + weightDecay * p[i];
            if (momentum != 0)
            {
                if (buf is null) buf = (double[])d.Clone();
                else for (int i = 0; i < p.Length; i++) buf[i] = momentum * buf[i] + (1 - dampening) * d[i];
                for (int i = 0; i < p.Length; i++) d[i] = nesterov ? d[i] + momentum * buf[i] : buf[i];
            }
            for (int i = 0; i < p.Length; i++) p[i] -= lr * d[i];
            history[t] = (double[])p.Clone();
        }
        return history;
    }

    /// <summary>
    /// torch.optim.Adam / AdamW, literally: Adam adds wd p to g, AdamW multiplies p by 1 - lr wd first;
    /// m, v moving averages; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    /// </summary>
    static double[][] AdamReference(double[] p0, double[][] grads, int steps, double lr, double beta1, double beta2,
                                    double eps, double weightDecay, bool decoupled)
    {
        var p = (double[])p0.Clone();
        var m = new double[p.Length];
        var v = new double[p.Length];
        var history = new double[steps][];
        for (int t = 1; t <= steps; t++)
        {
            for (int i = 0; i < p.Length; i++)
            {
                double g = grads[t - 1][i];
                if (decoupled) p[i] *= 1 - lr * weightDecay;
                else g += weightDecay * p[i];
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                double denom = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(beta2, t)) + eps;
                p[i] -= lr / (1 - Math.Pow(beta1, t)) * m[i] / denom;
            }
            history[t - 1] = (double[])p.Clone();
        }
        return history;
    }

    [Theory]
    [InlineData(0.0, 0.0, 0.0, false)]    // plain
    [InlineData(0.9, 0.0, 0.0, false)]    // momentum
    [InlineData(0.9, 0.5, 0.0, false)]    // dampening
    [InlineData(0.9, 0.0, 0.0, true)]     // Nesterov
    [InlineData(0.0, 0.0, 0.1, false)]    // weight decay alone
    [InlineData(0.9, 0.1, 0.05, false)]
    [InlineData(0.8, 0.0, 0.01, true)]
    public void Sgd(double momentum, double dampening, double weightDecay, bool nesterov)
    {
        const float lr = 0.1f;
        Compare(ps => new Sgd(ps, lr, (float)momentum, (float)dampening, (float)weightDecay, nesterov),
                (p0, g, steps) => SgdReference(p0, g, steps, lr, (float)momentum, (float)dampening, (float)weightDecay, nesterov),
                seed: 11);
    }

    [Theory]
    [InlineData(0.9, 0.999, 1e-8, 0.0, false)]
    [InlineData(0.9, 0.999, 1e-8, 0.1, false)]   // Adam: L2 decay through the gradient
    [InlineData(0.9, 0.999, 1e-8, 0.1, true)]    // AdamW: decoupled decay
    [InlineData(0.5, 0.9, 1e-3, 0.0, false)]     // other betas, eps that matters
    [InlineData(0.5, 0.9, 1e-3, 0.01, true)]
    public void Adam(double beta1, double beta2, double eps, double weightDecay, bool decoupled)
    {
        const float lr = 0.1f;
        float b1 = (float)beta1, b2 = (float)beta2, e = (float)eps, wd = (float)weightDecay;
        Compare(ps => decoupled ? new AdamW(ps, lr, b1, b2, e, wd) : new Adam(ps, lr, b1, b2, e, wd),
                (p0, g, steps) => AdamReference(p0, g, steps, lr, b1, b2, e, wd, decoupled),
                seed: 12);
    }

    [Fact]
    public void AdamWDefaultsFollowPyTorch()
    {
        var adamW = new AdamW([OneParameter()]);
        Assert.Equal((1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f), (adamW.LearningRate, adamW.Beta1, adamW.Beta2, adamW.Eps, adamW.WeightDecay));
    }

    /// <summary>A rate changed between steps (by a schedule) is the one the next step uses.</summary>
    [Fact]
    public void SgdUsesTheCurrentLearningRate()
    {
        var (initial, grads) = Problem(13);
        var parameters = Parameters(initial);
        var sgd = new Sgd(parameters, 0.1f, momentum: 0.9f);
        float[] rates = [0.1f, 0.05f, 0.2f];
        for (int step = 0; step < Steps; step++)
        {
            sgd.LearningRate = rates[step];
            sgd.ZeroGrad();
            SetGradients(parameters, grads[step]);
            sgd.Step();
        }
        // With momentum and a varying rate: buf_t as in the reference, p -= lr_t buf_t.
        var g = grads.Select(s => s[0]).ToArray();
        var buf = (double[])g[0].Clone();
        var p = initial[0].Select((v, i) => v - rates[0] * buf[i]).ToArray();
        for (int t = 1; t < Steps; t++)
            for (int i = 0; i < p.Length; i++)
            {
                buf[i] = (double)0.9f * buf[i] + g[t][i];
                p[i] -= rates[t] * buf[i];
            }
        AssertUpdate(parameters[0], initial[0], p, "parameter 0");
    }

    /// <summary>A parameter without a gradient is skipped and its Adam step count does not advance (PyTorch).</summary>
    [Fact]
    public void ParametersWithoutGradientsAreSkipped()
    {
        var (initial, grads) = Problem(14);
        var parameters = Parameters(initial);
        var adam = new Adam(parameters, 0.1f);
        for (int step = 0; step < Steps; step++)
        {
            adam.ZeroGrad();
            SetGradients(parameters, grads[step], count: step == Steps - 1 ? 2 : 1);   // parameter 1 only in the last step
            adam.Step();
            if (step < Steps - 1) Assert.Equal(OpCheck.ToFloat(initial[1]), parameters[1].ToArray());
        }
        // Its one update is Adam's first step (bias corrections with t = 1).
        var expected = AdamReference(initial[1], [grads[Steps - 1][1]], 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0, false)[0];
        AssertUpdate(parameters[1], initial[1], expected, "parameter 1");
    }

    // ---- ZeroGrad -------------------------------------------------------------------------------

    [Fact]
    public void WithoutZeroGradGradientsAccumulate()
    {
        var (initial, grads) = Problem(15);
        var parameters = Parameters(initial);
        SetGradients(parameters, grads[0]);
        SetGradients(parameters, grads[1]);
        for (int i = 0; i < parameters.Length; i++)
            Assert.True(OpCheck.RelativeError(OpCheck.ToDouble(parameters[i].Grad!.ToArray()), Reference.Zip(grads[0][i], grads[1][i], (a, b) => a + b)) <= 1e-6);
    }

    [Fact]
    public void ZeroGradMakesTheNextBackwardOverwrite()
    {
        var (initial, grads) = Problem(16);
        var parameters = Parameters(initial);
        var sgd = new Sgd(parameters, 0.1f);
        SetGradients(parameters, grads[0]);
        var first = parameters[0].Grad;
        sgd.ZeroGrad();
        Assert.All(parameters, p => Assert.Null(p.Grad));
        SetGradients(parameters, grads[1]);
        for (int i = 0; i < parameters.Length; i++)
            Assert.Equal(OpCheck.ToFloat(grads[1][i]), parameters[i].Grad!.ToArray());
        Assert.Same(first, parameters[0].Grad);   // the memory is reused, not reallocated
    }

    [Fact]
    public void StepAfterZeroGradWithoutBackwardChangesNothing()
    {
        var (initial, grads) = Problem(17);
        var parameters = Parameters(initial);
        var sgd = new Sgd(parameters, 0.1f, momentum: 0.9f);
        SetGradients(parameters, grads[0]);
        sgd.ZeroGrad();
        sgd.Step();
        for (int i = 0; i < parameters.Length; i++) Assert.Equal(OpCheck.ToFloat(initial[i]), parameters[i].ToArray());
    }

    // ---- schedules ------------------------------------------------------------------------------

    static Sgd Optimizer(float lr) => new([OneParameter()], lr);

    static void AssertRates(LrSchedule schedule, double[] expected)
    {
        for (int epoch = 1; epoch <= expected.Length; epoch++)
        {
            schedule.Step();
            Assert.Equal(epoch, schedule.Epoch);
            Assert.Equal(expected[epoch - 1], schedule.Optimizer.LearningRate, 1e-6);
        }
    }

    [Fact]
    public void StepLrHalvesEveryThreeEpochs() =>
        AssertRates(new StepLr(Optimizer(0.1f), stepSize: 3, gamma: 0.5f),
                    [0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]);

    [Fact]
    public void MultiStepLrAtMilestones() =>
        AssertRates(new MultiStepLr(Optimizer(1f), [5, 2], gamma: 0.1f),
                    [1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01]);

    /// <summary>eta_min + (lr0 - eta_min)(1 + cos(pi t / T)) / 2 with T = 4: cos(pi/4) = 0.70710678.</summary>
    [Fact]
    public void CosineLr()
    {
        AssertRates(new CosineLr(Optimizer(1f), tMax: 4), [0.8535533905932737, 0.5, 0.14644660940672624, 0]);
        AssertRates(new CosineLr(Optimizer(0.5f), tMax: 4, etaMin: 0.1f),
                    [0.1 + 0.4 * 0.8535533905932737, 0.3, 0.1 + 0.4 * 0.14644660940672624, 0.1]);
    }

    [Fact]
    public void ScheduleResumesAtAnEpoch()
    {
        var schedule = new StepLr(Optimizer(0.1f), stepSize: 3, gamma: 0.5f);
        schedule.Resume(6);
        Assert.Equal(0.025, schedule.Optimizer.LearningRate, 1e-7);
        schedule.Step();
        Assert.Equal(7, schedule.Epoch);
        Assert.Equal(0.025, schedule.Optimizer.LearningRate, 1e-7);
    }

    /// <summary>
    /// ReduceLROnPlateau(mode='min', factor=0.5, patience=2, threshold=1e-4 rel): traced by hand through
    /// PyTorch's step(): a metric must beat best * (1 - 1e-4) to count as better; the rate halves when
    /// the bad-epoch count exceeds the patience, and the count restarts.
    /// </summary>
    [Fact]
    public void ReduceLrOnPlateauMin()
    {
        var sgd = Optimizer(1f);
        var plateau = new ReduceLrOnPlateau(sgd, factor: 0.5f, patience: 2);
        (double Metric, double Rate)[] trace =
        [
            (10, 1), (9, 1),                 // improvements
            (9, 1), (8.9995, 1), (9, 0.5),   // 8.9995 > 9 * (1 - 1e-4) = 8.9991: not better; third bad epoch halves
            (8, 0.5), (8, 0.5), (8, 0.5), (8, 0.25),
            (7, 0.25),
        ];
        AssertTrace(plateau, trace);
    }

    static void AssertTrace(ReduceLrOnPlateau plateau, (double Metric, double Rate)[] trace)
    {
        for (int epoch = 0; epoch < trace.Length; epoch++)
        {
            plateau.Step(trace[epoch].Metric);
            Assert.True(Math.Abs(trace[epoch].Rate - plateau.Optimizer.LearningRate) < 1e-7,
                        $"epoch {epoch + 1}: rate {plateau.Optimizer.LearningRate}, PyTorch {trace[epoch].Rate}");
        }
    }

    /// <summary>mode='max' with cooldown=1 and min_lr: after a cut one epoch is ignored, and the rate never goes below min_lr.</summary>
    [Fact]
    public void ReduceLrOnPlateauMaxWithCooldownAndMinLr()
    {
        var sgd = Optimizer(1f);
        var plateau = new ReduceLrOnPlateau(sgd, maximize: true, factor: 0.1f, patience: 1, cooldown: 1, minLr: 0.005f);
        (double Metric, double Rate)[] trace =
        [
            (0.5, 1),
            (0.4, 1), (0.4, 0.1),            // second bad epoch > patience 1: cut, cooldown 1
            (0.4, 0.1),                      // cooldown: bad count reset to 0
            (0.4, 0.1), (0.4, 0.01),         // two bad epochs again: cut
            (0.4, 0.01), (0.4, 0.01), (0.4, 0.005),  // cooldown, then a cut clamped at min_lr
            (0.6, 0.005),
        ];
        AssertTrace(plateau, trace);
    }
}
