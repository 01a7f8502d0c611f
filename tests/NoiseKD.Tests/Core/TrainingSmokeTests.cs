using NoiseKD.Autograd;
using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace NoiseKD.Tests.Core;

/// <summary>
/// A whole small ResNet (He et al. 2016) trains end to end: every op, the tape, the modules and SGD
/// with momentum have to be right together for the loss to fall on a task it can learn.
/// </summary>
public class TrainingSmokeTests(ITestOutputHelper output)
{
    const int Classes = 4, Size = 12, Samples = 64;

    /// <summary>conv-bn-relu, conv-bn, plus the shortcut (a 1x1 strided projection when the shape changes), relu.</summary>
    sealed class BasicBlock : Module
    {
        readonly Sequential _body;
        readonly Sequential? _projection;

        public BasicBlock(int inChannels, int outChannels, int stride)
        {
            _body = RegisterModule("body", new Sequential(
                new Conv2d(inChannels, outChannels, 3, stride, 1, bias: false), new BatchNorm2d(outChannels), new ReLU(),
                new Conv2d(outChannels, outChannels, 3, 1, 1, bias: false), new BatchNorm2d(outChannels)));
            if (stride != 1 || inChannels != outChannels)
                _projection = RegisterModule("shortcut", new Sequential(
                    new Conv2d(inChannels, outChannels, 1, stride, 0, bias: false), new BatchNorm2d(outChannels)));
        }

        protected override Tensor OnForward(Tensor x) => F.Relu(F.Add(_body.Forward(x), _projection?.Forward(x) ?? x));
    }

    static Sequential ResNet() => new(
        new Conv2d(1, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(),
        new BasicBlock(8, 8, 1),
        new BasicBlock(8, 16, 2),
        new AdaptiveAvgPool2d(1), new Flatten(), new Linear(16, Classes));

    /// <summary>
    /// Re-draws every conv/linear weight from a private generator (U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's
    /// default), so the run does not depend on what other tests drew from the shared default generator.
    /// </summary>
    static void Initialize(Module net, Generator gen)
    {
        foreach (var (name, p) in net.NamedParameters())
        {
            if (p.Rank >= 2)
            {
                float bound = 1f / MathF.Sqrt(p.Numel / p.Shape[0]);
                using (TensorScope.Suspend()) p.CopyFrom(gen.Uniform(p.Shape, -bound, bound).ToArray());
            }
            else if (name.EndsWith("0.bias", StringComparison.Ordinal) || name == "7.bias")
            {
                p.CopyFrom(new float[p.Numel]);
            }
        }
    }

    /// <summary>Class k puts a bright 3x3 blob somewhere in quadrant k of a noisy 12x12 image.</summary>
    static (float[] Images, int[] Labels) Dataset(Generator gen)
    {
        var images = new float[Samples * Size * Size];
        var labels = new int[Samples];
        for (int s = 0; s < Samples; s++)
        {
            int label = labels[s] = s % Classes;
            var image = images.AsSpan(s * Size * Size, Size * Size);
            for (int i = 0; i < image.Length; i++) image[i] = 0.3f * gen.NextNormal();
            int top = (label / 2) * 6 + gen.NextInt(4), left = (label % 2) * 6 + gen.NextInt(4);
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) image[(top + i) * Size + left + j] += 2f;
        }
        return (images, labels);
    }

    static (float Loss, double Accuracy) Evaluate(Module net, float[] images, int[] labels)
    {
        using var scope = new TensorScope();
        using var _ = Tape.NoGrad();
        var logits = net.Forward(Tensor.FromArray(images, [Samples, 1, Size, Size]));
        var values = logits.ToArray();
        int correct = 0;
        for (int s = 0; s < Samples; s++)
        {
            var row = values.AsSpan(s * Classes, Classes);
            if (row.IndexOf(MaxOf(row)) == labels[s]) correct++;
        }
        return (F.CrossEntropy(logits, labels).Item(), (double)correct / Samples);
    }

    static float MaxOf(ReadOnlySpan<float> row)
    {
        float max = float.NegativeInfinity;
        foreach (float v in row) max = Math.Max(max, v);
        return max;
    }

    [Fact]
    public void SmallResNetLearnsQuadrantTask()
    {
        var gen = new Generator(2024);
        var (images, labels) = Dataset(gen);
        var net = ResNet();
        Initialize(net, gen);
        var sgd = new Sgd(net.Parameters(), 0.05f, momentum: 0.9f);
        const int batch = 16, steps = 60;

        net.Eval();
        var (initialLoss, initialAccuracy) = Evaluate(net, images, labels);
        net.Train();
        float firstLoss = 0, lastLoss = 0;
        var order = gen.Permutation(Samples);
        for (int step = 0; step < steps; step++)
        {
            if (step % (Samples / batch) == 0) order = gen.Permutation(Samples);
            var batchImages = new float[batch * Size * Size];
            var batchLabels = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                int s = order[(step * batch + b) % Samples];
                images.AsSpan(s * Size * Size, Size * Size).CopyTo(batchImages.AsSpan(b * Size * Size));
                batchLabels[b] = labels[s];
            }
            using var scope = new TensorScope();
            sgd.ZeroGrad();
            var loss = F.CrossEntropy(net.Forward(Tensor.FromArray(batchImages, [batch, 1, Size, Size])), batchLabels);
            loss.Backward();
            sgd.Step();
            float value = loss.Item();
            Assert.False(float.IsNaN(value), $"loss is NaN at step {step}");
            if (step < 4) firstLoss += value / 4;
            if (step >= steps - 4) lastLoss += value / 4;
        }

        net.Eval();
        var (finalLoss, accuracy) = Evaluate(net, images, labels);
        output.WriteLine($"training loss {firstLoss:F4} -> {lastLoss:F4}; eval loss {initialLoss:F4} -> {finalLoss:F4}, accuracy {initialAccuracy:P0} -> {accuracy:P0}");
        Assert.True(lastLoss < firstLoss / 2, $"training loss only fell from {firstLoss:F4} to {lastLoss:F4}");
        Assert.True(finalLoss < initialLoss / 2, $"eval loss only fell from {initialLoss:F4} to {finalLoss:F4}");
        Assert.True(accuracy > 0.9, $"train accuracy {accuracy:P1} after {steps} steps");
    }
}
