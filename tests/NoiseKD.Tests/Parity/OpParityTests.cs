using NoiseKD.Functional;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace NoiseKD.Tests.Parity;

/// <summary>
/// Each op against PyTorch: outputs within <see cref="ParityAssert.Forward"/>, gradients (of
/// sum(out * grad_output), so every output element carries a random upstream gradient) within
/// <see cref="ParityAssert.Gradient"/>. Fixtures: tests/parity/fixtures/op_*.safetensors.
/// </summary>
public class OpParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> ConvCases => ParityFixture.Names("op_conv2d_");
    public static TheoryData<string> BatchNormCases => ParityFixture.Names("op_batchnorm");
    public static TheoryData<string> PoolCases => ParityFixture.Names("op_", n => n.Contains("pool2d"));
    public static TheoryData<string> LossCases => ParityFixture.Names("op_", n => n.Contains("loss") || n.Contains("cross_entropy"));
    public static TheoryData<string> OptimizerCases => ParityFixture.Names("op_optim_");

    [Fact]
    public void EveryOpFamilyHasFixtures()
    {
        foreach (var family in new[] { ConvCases, BatchNormCases, PoolCases, LossCases, OptimizerCases })
            Assert.NotEmpty(family);
        Assert.True(File.Exists(ParityFixture.PathOf("op_linear")));
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2d(string name)
    {
        var f = ParityFixture.Load(name);
        var x = f.Tensor("x", true);
        var weight = f.Tensor("weight", true);
        var bias = f.Has("bias") ? f.Tensor("bias", true) : null;
        var y = F.Conv2d(x, weight, bias, f.Int("stride"), f.Int("padding"), f.Int("groups"));
        Backpropagate(y, f);
        var check = new ParityAssert(output, name);
        check.Close(y, f["out"], ParityAssert.Forward);
        check.Close(x.Grad, f["grad.x"], ParityAssert.Gradient);
        check.Close(weight.Grad, f["grad.weight"], ParityAssert.Gradient);
        if (bias is not null) check.Close(bias.Grad, f["grad.bias"], ParityAssert.Gradient);
    }

    /// <summary>The layer as users run it: state loaded by name, train/eval mode, per-layer statistics.</summary>
    [Theory]
    [MemberData(nameof(BatchNormCases))]
    public void BatchNorm(string name)
    {
        var f = ParityFixture.Load(name);
        var x = f.Tensor("x", true);
        int channels = x.Shape[1];
        float? momentum = f.Text("momentum") == "none" ? null : f.Float("momentum");
        NoiseKD.Nn.BatchNorm layer = x.Rank == 2 ? new BatchNorm1d(channels, momentum: momentum) : new BatchNorm2d(channels, momentum: momentum);
        StateDictIo.Load(layer, f.Arrays, "state.");
        layer.Train(f.Text("mode") == "train");
        layer.Statistics = f.Text("statistics") == "current" ? BnStatistics.Current : BnStatistics.Running;
        var y = layer.Forward(x);
        Backpropagate(y, f);
        var check = new ParityAssert(output, name);
        check.Close(y, f["out"], ParityAssert.Forward);
        check.Close(x.Grad, f["grad.x"], ParityAssert.Gradient);
        check.Close(layer.Weight!.Grad, f["grad.weight"], ParityAssert.Gradient);
        check.Close(layer.Bias!.Grad, f["grad.bias"], ParityAssert.Gradient);
        check.Close(layer.RunningMean, f["after.running_mean"], ParityAssert.Forward);
        check.Close(layer.RunningVar, f["after.running_var"], ParityAssert.Forward);
        Assert.Equal(f["after.num_batches_tracked"].Data[0], layer.NumBatchesTracked!.Item());
    }

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void Pool2d(string name)
    {
        var f = ParityFixture.Load(name);
        var x = f.Tensor("x", true);
        var y = f.Text("kind") switch
        {
            "max" => F.MaxPool2d(x, f.Int("kernel"), f.Int("stride"), f.Int("padding")),
            "avg" => F.AvgPool2d(x, f.Int("kernel"), f.Int("stride"), f.Int("padding"), f.Bool("count_include_pad")),
            _ => F.AdaptiveAvgPool2d(x, f.Int("out_h"), f.Int("out_w")),
        };
        Backpropagate(y, f);
        var check = new ParityAssert(output, name);
        check.Close(y, f["out"], ParityAssert.Forward);
        check.Close(x.Grad, f["grad.x"], ParityAssert.Gradient);
    }

    [Fact]
    public void Linear()
    {
        var f = ParityFixture.Load("op_linear");
        var (x, weight, bias) = (f.Tensor("x", true), f.Tensor("weight", true), f.Tensor("bias", true));
        var y = F.Linear(x, weight, bias);
        Backpropagate(y, f);
        var check = new ParityAssert(output, f.Name);
        check.Close(y, f["out"], ParityAssert.Forward);
        check.Close(x.Grad, f["grad.x"], ParityAssert.Gradient);
        check.Close(weight.Grad, f["grad.weight"], ParityAssert.Gradient);
        check.Close(bias.Grad, f["grad.bias"], ParityAssert.Gradient);
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void Loss(string name)
    {
        var f = ParityFixture.Load(name);
        var student = f.Tensor("student", true);
        var loss = f.Text("kind") switch
        {
            "cross_entropy" => F.CrossEntropy(student, f["labels"].Data.Select(v => (int)v).ToArray(), f.Float("label_smoothing")),
            "kd" => F.KdLoss(student, f.Tensor("target"), f.Float("temperature")),
            "soft_target_cross_entropy" => F.SoftTargetCrossEntropy(student, f.Tensor("target"), f.Float("temperature")),
            "l1" => F.L1Loss(student, f.Tensor("target")),
            "mse" => F.MseLoss(student, f.Tensor("target")),
            var kind => throw new InvalidOperationException($"unknown loss {kind}"),
        };
        loss.Backward();
        var check = new ParityAssert(output, name);
        check.Close(loss, f["out"], ParityAssert.Forward);
        check.Close(student.Grad, f["grad.student"], ParityAssert.Gradient);
    }

    /// <summary>Three steps on given gradients (injected as d/dp sum(p * g) = g).</summary>
    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void Optimizer(string name)
    {
        var f = ParityFixture.Load(name);
        var p = f.Tensor("param", true);
        float lr = f.Float("lr"), wd = f.Float("weight_decay");
        Optimizer optimizer = f.Text("kind") switch
        {
            "sgd" => new Sgd([p], lr, f.Float("momentum"), f.Float("dampening"), wd, f.Bool("nesterov")),
            "adam" => new Adam([p], lr, weightDecay: wd),
            _ => new AdamW([p], lr, weightDecay: wd),
        };
        for (int step = 0; step < f.Int("steps"); step++)
        {
            optimizer.ZeroGrad();
            F.Sum(F.Mul(p, f.Slice("grads", step))).Backward();
            optimizer.Step();
        }
        new ParityAssert(output, name).Close(p, f["after"], ParityAssert.Parameters);
    }

    static void Backpropagate(Tensor y, ParityFixture f) => F.Sum(F.Mul(y, f.Tensor("grad_output"))).Backward();
}
