using NoiseKD.Autograd;
using NoiseKD.Functional;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Tensors;
using NoiseKD.Training;
using Xunit;
using Xunit.Abstractions;

namespace NoiseKD.Tests.Parity;

/// <summary>
/// Whole models against PyTorch (tests/parity/fixtures/model_*.safetensors). Each model is built from
/// its spec and loaded from the PyTorch state_dict stored in the fixture, through StateDictIo and
/// Module.LoadStateDict as users' weights are.
/// </summary>
public class ModelParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases => ParityFixture.Names("model_");
    public static TheoryData<string> SgdCases => WithOptimizer("sgd");
    public static TheoryData<string> AdamCases => WithOptimizer("adam");

    static TheoryData<string> WithOptimizer(string optimizer) =>
        ParityFixture.Names("model_", n => ParityFixture.Load(n).Text("optimizers").Split(',').Contains(optimizer));

    [Fact]
    public void ModelFixturesArePresent()
    {
        Assert.True(((IEnumerable<object[]>)Cases).Count() >= 4);
        Assert.True(((IEnumerable<object[]>)SgdCases).Count() >= 2);
        Assert.True(((IEnumerable<object[]>)AdamCases).Count() >= 2);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsOnRunningStatistics(string name)
    {
        var (f, model) = Load(name);
        model.Eval();
        using var _ = Tape.NoGrad();
        new ParityAssert(output, name).Close(model.Forward(f.Tensor("input")), f["expected.logits_running"], ParityAssert.Forward, "logits_running");
    }

    /// <summary>Every layer on its batch's statistics (BnControl, as `eval --bn current`): the running buffers stay as loaded.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsOnCurrentStatistics(string name)
    {
        var (f, model) = Load(name);
        model.Eval();
        using (BnControl.Override(model, BnStatistics.Current, updateRunning: false))
        using (Tape.NoGrad())
            new ParityAssert(output, name).Close(model.Forward(f.Tensor("input")), f["expected.logits_current"], ParityAssert.Forward, "logits_current");
        foreach (var (key, value) in model.NamedBuffers())
            Assert.Equal(f["state." + key].Data, value.ToArray());
    }

    /// <summary>Train mode (PyTorch's default: current statistics, running buffers move), KD loss at T = 4.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void KdLossAndEveryParameterGradient(string name)
    {
        var (f, model) = Load(name);
        var loss = F.KdLoss(model.Forward(f.Tensor("input")), f.Tensor("teacher_logits"), f.Float("temperature"));
        loss.Backward();
        var check = new ParityAssert(output, name);
        check.Close(loss, f["expected.kd_loss"], ParityAssert.Forward, "kd_loss");
        var grads = f.WithPrefix("grad.");
        Assert.Equal(grads.Keys.Order(), model.NamedParameters().Select(p => p.Name).Order());
        double worst = model.NamedParameters().Max(p => check.Close(p.Value.Grad, grads[p.Name], ParityAssert.Gradient, "grad." + p.Name));
        output.WriteLine($"PARITY {name} grad.(max over parameters) {worst:E2}");
    }

    [Theory]
    [MemberData(nameof(SgdCases))]
    public void ThreeSgdSteps(string name)
    {
        // lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.0005 (the fixture's "sgd" metadata).
        var f = ParityFixture.Load(name);
        Assert.Equal("lr=0.1,momentum=0.9,nesterov=True,weight_decay=0.0005", f.Text("sgd"));
        TrainAndCompare(name, "sgd.", model => new Sgd(model.Parameters(), 0.1f, momentum: 0.9f, weightDecay: 5e-4f, nesterov: true));
    }

    [Theory]
    [MemberData(nameof(AdamCases))]
    public void ThreeAdamSteps(string name)
    {
        var f = ParityFixture.Load(name);
        Assert.Equal("lr=0.001", f.Text("adam"));
        TrainAndCompare(name, "adam.", model => new Adam(model.Parameters(), 1e-3f));
    }

    /// <summary>KD steps on steps.input[s] against steps.teacher_logits[s]; then every parameter and buffer is compared.</summary>
    void TrainAndCompare(string name, string prefix, Func<Module, Optimizer> createOptimizer)
    {
        var (f, model) = Load(name);
        var optimizer = createOptimizer(model);
        float temperature = f.Float("temperature");
        for (int step = 0; step < f.Int("steps"); step++)
        {
            using var scope = new TensorScope();
            optimizer.ZeroGrad();
            F.KdLoss(model.Forward(f.Slice("steps.input", step)), f.Slice("steps.teacher_logits", step), temperature).Backward();
            optimizer.Step();
        }
        var expected = f.WithPrefix(prefix);
        var check = new ParityAssert(output, name);
        Assert.Equal(expected.Keys.Order(), model.StateDict().Select(e => e.Name).Order());
        double worst = 0;
        foreach (var (key, value) in model.StateDict())
        {
            if (key.EndsWith("num_batches_tracked", StringComparison.Ordinal)) Assert.Equal(expected[key].Data, value.ToArray());
            else worst = Math.Max(worst, check.Close(value, expected[key], ParityAssert.Parameters, prefix + key));
        }
        output.WriteLine($"PARITY {name} {prefix}(max over state) {worst:E2}");
    }

    static (ParityFixture Fixture, Module Model) Load(string name)
    {
        var f = ParityFixture.Load(name);
        var spec = new ModelSpec(f.Text("arch"), f.Float("width"), f.Int("in_channels"), f.Int("classes"), f.Int("image_size"));
        var model = spec.Create();
        StateDictIo.Load(model, f.Arrays, "state.");
        return (f, model);
    }
}
