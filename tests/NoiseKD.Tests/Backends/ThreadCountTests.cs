using NoiseKD.Backends.Cpu;
using NoiseKD.Functional;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using NoiseKD.Tests.Ops;
using NoiseKD.Data;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Backends;

/// <summary>Tests that set the CPU worker count run alone: every kernel reads it.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadCountCollection
{
    public const string Name = "thread count";
}

/// <summary>
/// The CPU kernels split work into parts that do not depend on the worker count, and add partial sums in a fixed
/// order: a training step gives the same bits with 1, 2, 3 or 5 threads (so `--threads` is not part of a run's
/// options, and a study task given fewer cores reproduces the local run).
/// </summary>
[Collection(ThreadCountCollection.Name)]
public class ThreadCountTests
{
    public static TheoryData<string, float, int, int> Models => new()
    {
        { "resnet18", 0.25f, 3, 16 },
        { "mobilenetv2", 0.25f, 3, 16 },
        { "wrn-16-2", 0.5f, 3, 16 },
        { "lenet5", 1f, 1, 28 },
        { "mlp", 1f, 1, 28 },
    };

    /// <summary><paramref name="work"/> with the CPU worker count set to <paramref name="threads"/>, restored afterwards.</summary>
    static T AtThreads<T>(int threads, Func<T> work)
    {
        int saved = CpuParallel.Threads;
        CpuParallel.Threads = threads;
        try { return work(); }
        finally { CpuParallel.Threads = saved; }
    }

    /// <summary>One forward and backward in train mode (current statistics) at batch <paramref name="batch"/>: logits, every gradient, every buffer.</summary>
    static List<float[]> Step(string arch, float width, int channels, int image, int batch, int threads) => AtThreads(threads, () =>
        {
            Generator.ManualSeed(7);
            var model = new ModelSpec(arch, width, channels, 10, image).Create();
            using var scope = new TensorScope();
            var x = Tensor.FromArray(OpCheck.ToFloat(OpCheck.Draw(batch * channels * image * image, -2, 2, new System.Random(3))), [batch, channels, image, image]);
            var logits = model.Forward(x);
            F.CrossEntropy(logits, [.. Enumerable.Range(0, batch).Select(i => i % 10)]).Backward();
            var result = new List<float[]> { logits.ToArray() };
            result.AddRange(model.NamedParameters().Select(p => p.Value.Grad!.ToArray()));
            result.AddRange(model.NamedBuffers().Select(b => b.Value.ToArray()));
            return result;
        });

    [Theory]
    [MemberData(nameof(Models))]
    public void TrainingStepIsTheSameBitsWhateverTheThreadCount(string arch, float width, int channels, int image)
    {
        foreach (int batch in new[] { 2, 12 })
        {
            var one = Step(arch, width, channels, image, batch, 1);
            foreach (int threads in new[] { 2, 3, 5 })
            {
                var other = Step(arch, width, channels, image, batch, threads);
                Assert.Equal(one.Count, other.Count);
                for (int i = 0; i < one.Count; i++)
                    Assert.True(one[i].AsSpan().SequenceEqual(other[i]), $"{arch} batch {batch}: tensor {i} differs between 1 and {threads} threads");
            }
        }
    }

    public static TheoryData<string> Layers => new() { "conv3", "conv3s2", "conv1", "dw3", "dw3s2", "bn", "linear", "convbig" };

    static Module Layer(string name) => name switch
    {
        "conv3" => new Conv2d(8, 16, 3, 1, 1),
        "conv3s2" => new Conv2d(8, 16, 3, 2, 1),
        "conv1" => new Conv2d(8, 16, 1),
        "dw3" => new Conv2d(8, 8, 3, 1, 1, groups: 8),
        "dw3s2" => new Conv2d(8, 8, 3, 2, 1, groups: 8),
        "bn" => new BatchNorm2d(8),
        "linear" => new Linear(8 * 16 * 16, 10),
        "convbig" => new Conv2d(8, 64, 3, 1, 1),
        _ => throw new ArgumentException(name),
    };

    static List<float[]> LayerStep(string name, int batch, int threads) => AtThreads(threads, () =>
        {
            Generator.ManualSeed(7);
            var layer = Layer(name);
            using var scope = new TensorScope();
            var x = Tensor.FromArray(OpCheck.ToFloat(OpCheck.Draw(batch * 8 * 16 * 16, -2, 2, new System.Random(3))), [batch, 8, 16, 16]);
            x.RequiresGrad = true;
            var y = layer.Forward(name == "linear" ? F.Reshape(x, [batch, 8 * 16 * 16]) : x);
            var r = Tensor.FromArray(OpCheck.ToFloat(OpCheck.Draw(y.Shape.Aggregate(1, (a, b) => a * b), -1, 1, new System.Random(4))), y.Shape);
            F.Sum(F.Mul(y, r)).Backward();
            var result = new List<float[]> { y.ToArray(), x.Grad!.ToArray() };
            result.AddRange(layer.NamedParameters().Select(p => p.Value.Grad!.ToArray()));
            return result;
        });

    [Theory]
    [MemberData(nameof(Layers))]
    public void LayerIsTheSameBitsWhateverTheThreadCount(string name)
    {
        foreach (int batch in new[] { 2, 12 })
        {
            var one = LayerStep(name, batch, 1);
            foreach (int threads in new[] { 2, 3, 5 })
            {
                var other = LayerStep(name, batch, threads);
                for (int i = 0; i < one.Count; i++)
                    Assert.True(one[i].AsSpan().SequenceEqual(other[i]), $"{name} batch {batch}: tensor {i} (0 output, 1 input grad, 2+ parameter grads) differs between 1 and {threads} threads");
            }
        }
    }

    /// <summary>Two epochs of `train` (ResNet-18, crop + flip, SGD, cosine) give the same model file, byte for byte, with 1 and 2 threads.</summary>
    [Fact]
    public void TrainingRunWritesTheSameModelWithOneAndTwoThreads()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 96, 32);
        foreach (int threads in new[] { 1, 2 })
            AtThreads(threads, () => new Trainer(new TrainOptions(new ModelSpec("resnet18", 0.125f), "fashion-mnist", dir.File($"t{threads}"), Epochs: 2, BatchSize: 32,
                                                                  Augment: new Augmentation(2, true), DataRoot: dir.Path), SilentProgress.Instance).Run());
        Assert.Equal(File.ReadAllBytes(dir.File("t1/model.safetensors")), File.ReadAllBytes(dir.File("t2/model.safetensors")));
    }
}
