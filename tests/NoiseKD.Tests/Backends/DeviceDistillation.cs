using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;
using NoiseKD.Backends.Conformance;
using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Tensors;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Backends;

/// <summary>
/// A few steps of Gaussian-noise KD (Raikwar &amp; Mishra 2022: teacher on current-statistics BN, student
/// trained on the teacher's soft targets) from the same seeds on the CPU and on a device: every loss and
/// the student's final logits must agree to 1e-3 relative. A MobileNetV2 teacher (depthwise convolutions)
/// and a ResNet-18 student at 1/8 width on 16x16 inputs cover conv, BN, pooling, linear, the loss and SGD.
/// Not the other way round: a MobileNetV2 student on noise is chaotic (rounding noise in nearly constant
/// BN channels steers its updates), so even the CPU with 1 and with 2 threads ends 1e-2 apart after five
/// steps; this pair's own CPU spread is about 1e-6.
/// </summary>
public static class DeviceDistillation
{
    const int Steps = 5, Batch = 16, Size = 16;
    const double Tolerance = 1e-3;

    public static void AssertMatchesCpu(IBackend device)
    {
        var (cpuLosses, cpuLogits) = Distill(CpuBackend.Instance);
        var (deviceLosses, deviceLogits) = Distill(device);
        for (int step = 0; step < Steps; step++)
            Assert.True(Math.Abs(deviceLosses[step] - cpuLosses[step]) <= Tolerance * Math.Abs(cpuLosses[step]),
                        $"step {step + 1}: loss {deviceLosses[step]} on {device.Name}, {cpuLosses[step]} on the CPU");
        double error = BackendConformance.NormalizedError(deviceLogits, cpuLogits);
        Assert.True(error <= Tolerance, $"student logits after {Steps} steps differ by {error:E2} (normalized)");
        Assert.True(cpuLosses[^1] < cpuLosses[0], "the student should learn something in five steps");
    }

    /// <summary>KD losses of every step and the student's logits on a fresh noise batch afterwards, all computed on <paramref name="device"/>.</summary>
    static (float[] Losses, float[] Logits) Distill(IBackend device)
    {
        var previous = Devices.Default;
        Devices.Default = device; // models and their parameters are created on the default device
        try
        {
            Generator.ManualSeed(11);
            var teacher = new ModelSpec("mobilenetv2", 0.125f, 1, 10, Size).Create().Eval();
            foreach (var layer in BnControl.Layers(teacher))
            {
                layer.Statistics = BnStatistics.Current;
                layer.UpdateRunningStatistics = false;
            }
            var student = new ModelSpec("resnet18", 0.125f, 1, 10, Size).Create().Train();
            var optimizer = new Sgd(student.Parameters(), 0.01f, 0.9f, 0f, 5e-4f);
            var transfer = TransferSet.Parse("gaussian", 1, Size, new Normalization([0f], [1f]), 5, device,
                                             () => throw new InvalidOperationException("noise KD reads no data"));
            var objective = KdObjective.Parse("soft-ce");
            var losses = new float[Steps];
            for (int step = 0; step < Steps; step++)
            {
                using var scope = new TensorScope();
                var x = transfer.Next(Batch);
                Tensor target;
                using (Tape.NoGrad()) target = teacher.Forward(x);
                var loss = objective.Loss(student.Forward(x), target);
                optimizer.ZeroGrad();
                loss.Backward();
                optimizer.Step();
                losses[step] = loss.Item();
            }
            using var final = new TensorScope();
            using (Tape.NoGrad()) return (losses, student.Forward(transfer.Next(Batch)).ToArray());
        }
        finally
        {
            Devices.Default = previous;
        }
    }
}

/// <summary>Tests that change process-wide defaults (Devices.Default, Generator.Default) run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DeviceDefaultsCollection
{
    public const string Name = "Devices with process-wide defaults";
}
