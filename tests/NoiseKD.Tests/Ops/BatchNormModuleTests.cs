using NoiseKD.Backends;
using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using Xunit;

namespace NoiseKD.Tests.Ops;

/// <summary>
/// Nn.BatchNorm2d/BatchNorm1d semantics: which statistics a forward uses in train and eval, when the
/// running buffers move (PyTorch: r = (1-m) r + m s with the unbiased batch variance), the
/// UpdateRunningStatistics switch, momentum=None's cumulative average, and a network mixing layers
/// on running and on current statistics against a float64 composition.
/// </summary>
public class BatchNormModuleTests
{
    const double Eps = 1e-5;
    const double ForwardTolerance = 1e-5;
    const double BufferTolerance = 1e-6;

    /// <summary>A layer with random affine parameters and random running statistics (so Running and Current differ).</summary>
    static BatchNorm2d Layer(int c, Random rng, float? momentum = 0.1f)
    {
        var bn = new BatchNorm2d(c, momentum: momentum);
        Randomize(bn, rng);
        return bn;
    }

    static void Randomize(BatchNorm bn, Random rng)
    {
        int c = bn.NumFeatures;
        bn.Weight?.CopyFrom(OpCheck.ToFloat(OpCheck.Draw(c, 0.5, 1.5, rng)));
        bn.Bias?.CopyFrom(OpCheck.ToFloat(OpCheck.Draw(c, -1, 1, rng)));
        bn.RunningMean?.CopyFrom(OpCheck.ToFloat(OpCheck.Draw(c, -0.5, 0.5, rng)));
        bn.RunningVar?.CopyFrom(OpCheck.ToFloat(OpCheck.Draw(c, 0.5, 2, rng)));
    }

    static double[] D(Tensor t) => OpCheck.ToDouble(t.ToArray());

    static (double[] Mean, double[] Var) State(BatchNorm bn) => (D(bn.RunningMean!), D(bn.RunningVar!));

    /// <summary>Runs the layer on x and returns its output (the layer's buffers are read by the caller).</summary>
    static double[] Forward(Module layer, double[] x, int[] shape)
    {
        using var scope = new TensorScope();
        return D(layer.Forward(Tensor.FromArray(OpCheck.ToFloat(x), shape)));
    }

    static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        double error = OpCheck.RelativeError(actual, expected);
        Assert.True(error <= tolerance, $"{what}: relative error {error:E2} > {tolerance:E0}");
    }

    static double[] Affine(BatchNorm bn, bool weight) => D(weight ? bn.Weight! : bn.Bias!);

    static double[] Expected(BatchNorm bn, double[] x, int[] shape, bool current, (double[] Mean, double[] Var) running)
    {
        int n = shape[0], c = shape[1], hw = Reference.Numel(shape) / (n * c);
        return Reference.BatchNorm(x, n, c, hw, Affine(bn, true), Affine(bn, false), running.Mean, running.Var, current, Eps);
    }

    /// <summary>PyTorch's update: r = (1 - m) r + m s, the variance taken unbiased (n/(n-1)).</summary>
    static (double[] Mean, double[] Var) Updated((double[] Mean, double[] Var) running, double[] x, int[] shape, double momentum)
    {
        int n = shape[0], c = shape[1], hw = Reference.Numel(shape) / (n * c);
        var (mean, variance) = Reference.BatchStatistics(x, n, c, hw);
        double count = (double)n * hw;
        return (running.Mean.Select((r, i) => (1 - momentum) * r + momentum * mean[i]).ToArray(),
                running.Var.Select((r, i) => (1 - momentum) * r + momentum * variance[i] * count / (count - 1)).ToArray());
    }

    static void AssertState(BatchNorm bn, (double[] Mean, double[] Var) expected, double batchesTracked)
    {
        var (mean, variance) = State(bn);
        AssertClose(expected.Mean, mean, BufferTolerance, "running_mean");
        AssertClose(expected.Var, variance, BufferTolerance, "running_var");
        Assert.Equal(batchesTracked, bn.NumBatchesTracked!.Item());
    }

    static readonly int[] Shape4 = [3, 5, 3, 5];

    [Fact]
    public void TrainModeNormalizesWithTheBatchAndMovesTheRunningBuffers()
    {
        var rng = new Random(1);
        var bn = Layer(5, rng);
        Assert.Equal(BnStatistics.Current, bn.EffectiveStatistics);
        var state = State(bn);
        for (int step = 1; step <= 2; step++)
        {
            var x = OpCheck.Draw(Reference.Numel(Shape4), -1, 3, rng);
            AssertClose(Expected(bn, x, Shape4, true, state), Forward(bn, x, Shape4), ForwardTolerance, "output");
            state = Updated(state, x, Shape4, 0.1);
            AssertState(bn, state, step);
        }
    }

    /// <summary>
    /// One forward per combination of train/eval, the Statistics override and the UpdateRunningStatistics
    /// switch: the statistics it normalizes with, and whether the running buffers and the batch count move.
    /// </summary>
    [Theory]
    [InlineData(true, null, null, BnStatistics.Current, true)]       // PyTorch train
    [InlineData(false, null, null, BnStatistics.Running, false)]     // PyTorch eval
    [InlineData(false, BnStatistics.Current, null, BnStatistics.Current, false)]  // only training forwards update by default
    [InlineData(false, BnStatistics.Current, false, BnStatistics.Current, false)]
    [InlineData(false, BnStatistics.Current, true, BnStatistics.Current, true)]   // the switch lets an eval forward update
    [InlineData(true, BnStatistics.Current, null, BnStatistics.Current, true)]
    [InlineData(true, BnStatistics.Current, false, BnStatistics.Current, false)]  // the switch can freeze a training layer
    [InlineData(true, null, false, BnStatistics.Current, false)]
    [InlineData(true, BnStatistics.Running, null, BnStatistics.Running, false)]   // no batch statistics, nothing to move towards
    [InlineData(true, BnStatistics.Running, true, BnStatistics.Running, false)]
    [InlineData(false, BnStatistics.Running, true, BnStatistics.Running, false)]
    public void StatisticsModes(bool training, BnStatistics? statistics, bool? updateSwitch, BnStatistics expected, bool updates)
    {
        var rng = new Random(3);
        var bn = Layer(5, rng);
        bn.Train(training);
        bn.Statistics = statistics;
        bn.UpdateRunningStatistics = updateSwitch;
        Assert.Equal(expected, bn.EffectiveStatistics);
        var state = State(bn);
        var x = OpCheck.Draw(Reference.Numel(Shape4), -1, 3, rng);
        bool current = expected == BnStatistics.Current;
        AssertClose(Expected(bn, x, Shape4, current, state), Forward(bn, x, Shape4), ForwardTolerance, "output");
        AssertState(bn, updates ? Updated(state, x, Shape4, 0.1) : state, updates ? 1 : 0);
    }

    /// <summary>momentum=None: factor 1/num_batches_tracked, so the buffers are the plain average of the batch statistics.</summary>
    [Fact]
    public void MomentumNullIsACumulativeAverage()
    {
        var rng = new Random(6);
        AssertCumulativeAverage(Layer(5, rng, momentum: null), rng);
    }

    /// <summary>
    /// BN re-estimation as torch does it: reset_running_stats() (mean 0, variance 1, count 0) and
    /// momentum=None, then forwards; what the buffers held before must not leak into the average.
    /// </summary>
    [Fact]
    public void ResetThenCumulativeAverageReestimates()
    {
        var rng = new Random(16);
        var bn = Layer(5, rng);
        Forward(bn, OpCheck.Draw(Reference.Numel(Shape4), 2, 5, rng), Shape4);
        bn.ResetRunningStatistics();
        AssertState(bn, (new double[5], Enumerable.Repeat(1.0, 5).ToArray()), 0);
        bn.Momentum = null;
        AssertCumulativeAverage(bn, rng);
    }

    /// <summary>Three training forwards: after each, the buffers are the plain average of the batch statistics so far.</summary>
    static void AssertCumulativeAverage(BatchNorm bn, Random rng)
    {
        int n = Shape4[0], c = Shape4[1], hw = 15;
        var meanSum = new double[c];
        var varSum = new double[c];
        for (int step = 1; step <= 3; step++)
        {
            var x = OpCheck.Draw(Reference.Numel(Shape4), -1 + step, 1 + 2 * step, rng);
            Forward(bn, x, Shape4);
            var (mean, variance) = Reference.BatchStatistics(x, n, c, hw);
            for (int i = 0; i < c; i++)
            {
                meanSum[i] += mean[i];
                varSum[i] += variance[i] * (n * hw) / (n * hw - 1.0);
            }
            AssertState(bn, (meanSum.Select(s => s / step).ToArray(), varSum.Select(s => s / step).ToArray()), step);
        }
    }

    [Fact]
    public void NumBatchesTrackedCountsOnlyUpdatingForwards()
    {
        var rng = new Random(7);
        var bn = Layer(5, rng);
        var x = OpCheck.Draw(Reference.Numel(Shape4), -1, 1, rng);
        Forward(bn, x, Shape4);                 // train: counts
        Forward(bn, x, Shape4);                 // train: counts
        bn.Eval();
        Forward(bn, x, Shape4);                 // eval, running: no
        bn.Statistics = BnStatistics.Current;
        Forward(bn, x, Shape4);                 // eval, current, no switch: no
        bn.UpdateRunningStatistics = true;
        Forward(bn, x, Shape4);                 // eval, current, switch: counts
        Assert.Equal(3f, bn.NumBatchesTracked!.Item());
    }

    [Theory]
    [InlineData(new[] { 6, 13 })]
    [InlineData(new[] { 3, 5, 7 })]
    public void BatchNorm1d(int[] shape)
    {
        var rng = new Random(8);
        var bn = new BatchNorm1d(shape[1]);
        Randomize(bn, rng);
        var state = State(bn);
        var x = OpCheck.Draw(Reference.Numel(shape), -2, 2, rng);
        AssertClose(Expected(bn, x, shape, true, state), Forward(bn, x, shape), ForwardTolerance, "train output");
        state = Updated(state, x, shape, 0.1);
        AssertState(bn, state, 1);
        bn.Eval();
        AssertClose(Expected(bn, x, shape, false, state), Forward(bn, x, shape), ForwardTolerance, "eval output");
    }

    [Fact]
    public void WithoutRunningStatisticsEvalStillUsesTheBatch()
    {
        var rng = new Random(9);
        var bn = new BatchNorm2d(5, trackRunningStats: false);
        Randomize(bn, rng);
        bn.Eval();
        Assert.Null(bn.RunningMean);
        Assert.Equal(BnStatistics.Current, bn.EffectiveStatistics);
        var x = OpCheck.Draw(Reference.Numel(Shape4), -1, 1, rng);
        AssertClose(Expected(bn, x, Shape4, true, (null!, null!)), Forward(bn, x, Shape4), ForwardTolerance, "output");
    }

    [Fact]
    public void WrongChannelCountIsAClearError()
    {
        var bn = new BatchNorm2d(4);
        using var scope = new TensorScope();
        var e = Assert.Throws<ArgumentException>(() => bn.Forward(Tensor.Zeros([2, 3, 5, 5])));
        Assert.Contains("4 channels", e.Message);
    }

    // ---- the fused forward: act(bn(x) + residual) -------------------------------------------------

    /// <summary>Two layers with the same parameters, buffers and switches (the second runs unfused).</summary>
    static (BatchNorm2d Fused, BatchNorm2d Plain) Twins(int seed, bool training, BnStatistics? statistics, bool? updateSwitch, bool cumulative)
    {
        BatchNorm2d Make()
        {
            var bn = Layer(5, new Random(seed), cumulative ? null : 0.1f);
            bn.Train(training);
            bn.Statistics = statistics;
            bn.UpdateRunningStatistics = updateSwitch;
            return bn;
        }
        return (Make(), Make());
    }

    /// <summary>
    /// Forward(x, act, residual) against Forward(x), add, activation on a twin layer, over the statistics
    /// modes of <see cref="StatisticsModes"/> and momentum=None, for three forwards: the same output bits,
    /// the same running buffers and batch count (the fused pass does the unfused float operations in order).
    /// </summary>
    [Theory]
    [InlineData(true, null, null, false)]
    [InlineData(false, null, null, false)]
    [InlineData(false, BnStatistics.Current, null, false)]
    [InlineData(false, BnStatistics.Current, true, false)]
    [InlineData(true, BnStatistics.Current, false, false)]
    [InlineData(true, BnStatistics.Running, null, false)]
    [InlineData(true, null, null, true)]
    [InlineData(false, BnStatistics.Current, true, true)]
    public void FusedForwardMatchesUnfused(bool training, BnStatistics? statistics, bool? updateSwitch, bool cumulative)
    {
        var (fused, plain) = Twins(11, training, statistics, updateSwitch, cumulative);
        var rng = new Random(12);
        foreach (var activation in new[] { Activation.Relu, Activation.None, Activation.Relu6 })
        {
            using var scope = new TensorScope();
            var x = Tensor.FromArray(OpCheck.ToFloat(OpCheck.Draw(Reference.Numel(Shape4), -1, 3, rng)), Shape4);
            var residual = Tensor.FromArray(OpCheck.ToFloat(OpCheck.Draw(Reference.Numel(Shape4), -2, 5, rng)), Shape4);
            var z = F.Add(plain.Forward(x), residual);
            var expected = activation switch { Activation.Relu => F.Relu(z), Activation.Relu6 => F.Relu6(z), _ => z };
            Assert.Equal(expected.ToArray(), fused.Forward(x, activation, residual).ToArray());
            Assert.Equal(plain.RunningMean!.ToArray(), fused.RunningMean!.ToArray());
            Assert.Equal(plain.RunningVar!.ToArray(), fused.RunningVar!.ToArray());
            Assert.Equal(plain.NumBatchesTracked!.Item(), fused.NumBatchesTracked!.Item());
        }
    }

    /// <summary>With a hook attached the layer runs unfused: the hook sees the layer's own input and output, not the activated sum.</summary>
    [Fact]
    public void FusedForwardWithAHookShowsTheHookTheLayersOwnOutput()
    {
        var (hooked, plain) = Twins(13, training: true, null, null, cumulative: false);
        float[]? seenInput = null, seenOutput = null;
        using var hook = hooked.AddForwardHook((_, input, output) => (seenInput, seenOutput) = (input.ToArray(), output.ToArray()));
        using var scope = new TensorScope();
        var rng = new Random(14);
        var x = Tensor.FromArray(OpCheck.ToFloat(OpCheck.Draw(Reference.Numel(Shape4), -1, 3, rng)), Shape4);
        var residual = Tensor.FromArray(OpCheck.ToFloat(OpCheck.Draw(Reference.Numel(Shape4), -2, 2, rng)), Shape4);
        var y = hooked.Forward(x, Activation.Relu, residual);
        var bnOutput = plain.Forward(x);
        Assert.Equal(x.ToArray(), seenInput);
        Assert.Equal(bnOutput.ToArray(), seenOutput);
        Assert.Equal(F.Relu(F.Add(bnOutput, residual)).ToArray(), y.ToArray());
        Assert.Equal(plain.RunningMean!.ToArray(), hooked.RunningMean!.ToArray());
    }

    // ---- a network mixing running-statistics and current-statistics layers ----------------------

    /// <summary>One float64 layer of the reference composition: forward, and dx given x and dy.</summary>
    sealed record RefLayer(Func<double[], double[]> Forward, Func<double[], double[], double[]> Backward);

    static RefLayer RefConv(Conv2d conv, int n, int h, int w)
    {
        var g = new ConvGeometry(n, conv.InChannels, h, w, conv.OutChannels, conv.KernelSize, conv.KernelSize,
                                          conv.Stride, conv.Stride, conv.Padding, conv.Padding, conv.Groups);
        var weight = D(conv.Weight);
        var bias = conv.Bias is null ? null : D(conv.Bias);
        return new RefLayer(x => Reference.Conv2d(g, x, weight, bias),
                            (x, dy) => Reference.Conv2dBackward(g, x, weight, false, dy).Dx);
    }

    static RefLayer RefBn(BatchNorm bn, int n, int hw)
    {
        bool current = bn.EffectiveStatistics == BnStatistics.Current;
        int c = bn.NumFeatures;
        var (gamma, beta, mean, variance) = (D(bn.Weight!), D(bn.Bias!), D(bn.RunningMean!), D(bn.RunningVar!));
        return new RefLayer(x => Reference.BatchNorm(x, n, c, hw, gamma, beta, mean, variance, current, Eps),
                            (x, dy) => Reference.BatchNormBackward(x, n, c, hw, gamma, true, mean, variance, current, Eps, dy).Dx);
    }

    static readonly RefLayer RefRelu = new(x => Reference.Map(x, v => Math.Max(v, 0)),
                                            (x, dy) => Reference.MapBackward(x, dy, v => v > 0 ? 1 : 0));

    /// <summary>
    /// conv-bn(Running)-relu, conv(stride 2)-bn(Current)-relu, conv 1x1-bn(follows train/eval): the
    /// forward and the input gradient against the float64 composition, in eval and then in train mode,
    /// and which running buffers moved.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MixedNetworkMatchesFloat64Composition(bool training)
    {
        var rng = new Random(10);
        var net = new Sequential(
            new Conv2d(3, 5, 3, padding: 1), Layer(5, rng), new ReLU(),
            new Conv2d(5, 6, 3, stride: 2, padding: 1, bias: false), Layer(6, rng), new ReLU(),
            new Conv2d(6, 4, 1), Layer(4, rng));
        foreach (var conv in new[] { net[0], net[3], net[6] }.Cast<Conv2d>())
        {
            conv.Weight.CopyFrom(OpCheck.ToFloat(OpCheck.Draw((int)conv.Weight.Numel, -0.5, 0.5, rng)));
            conv.Bias?.CopyFrom(OpCheck.ToFloat(OpCheck.Draw(conv.OutChannels, -0.5, 0.5, rng)));
        }
        var bns = new[] { (BatchNorm)net[1], (BatchNorm)net[4], (BatchNorm)net[7] };
        bns[0].Statistics = BnStatistics.Running;
        bns[1].Statistics = BnStatistics.Current;
        net.Train(training);

        int n = 2, h = 7, w = 9, h2 = 4, w2 = 5;
        RefLayer[] layers =
        [
            RefConv((Conv2d)net[0], n, h, w), RefBn(bns[0], n, h * w), RefRelu,
            RefConv((Conv2d)net[3], n, h, w), RefBn(bns[1], n, h2 * w2), RefRelu,
            RefConv((Conv2d)net[6], n, h2, w2), RefBn(bns[2], n, h2 * w2),
        ];
        var before = bns.Select(State).ToArray();
        var x = OpCheck.Draw(n * 3 * h * w, -1, 1, rng);
        var activations = new List<double[]> { x };
        foreach (var layer in layers) activations.Add(layer.Forward(activations[^1]));
        var dy = OpCheck.Draw(activations[^1].Length, -1, 1, rng);
        var dx = dy;
        for (int i = layers.Length - 1; i >= 0; i--) dx = layers[i].Backward(activations[i], dx);

        using (var scope = new TensorScope())
        {
            var xt = Tensor.FromArray(OpCheck.ToFloat(x), [n, 3, h, w]);
            xt.RequiresGrad = true;
            var y = net.Forward(xt);
            Assert.Equal([n, 4, h2, w2], y.Shape);
            AssertClose(activations[^1], D(y), ForwardTolerance, "network output");
            F.Sum(F.Mul(y, Tensor.FromArray(OpCheck.ToFloat(dy), y.Shape))).Backward();
            AssertClose(dx, D(xt.Grad!), 1e-4, "input gradient");
        }

        // Layer 0 is pinned to Running: never moves. Layer 1 (Current) and layer 2 move only in training.
        var inputs = new[] { activations[1], activations[4], activations[7] };
        int[][] shapes = [[n, 5, h, w], [n, 6, h2, w2], [n, 4, h2, w2]];
        for (int i = 0; i < 3; i++)
        {
            bool moves = training && i > 0;
            AssertState(bns[i], moves ? Updated(before[i], inputs[i], shapes[i], 0.1) : before[i], moves ? 1 : 0);
        }
    }
}
