using NoiseKD.Data;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Training;

public class BnRecalibrationTests
{
    [Fact]
    public void ReestimatedRunningStatisticsAreTheCumulativeAverageOfBatchStatistics()
    {
        // 40 images of 1x2x2 whose pixels are i/40 + position offsets, in 2 batches of 20.
        var pixels = new byte[40 * 4];
        for (int i = 0; i < 40; i++) for (int p = 0; p < 4; p++) pixels[i * 4 + p] = (byte)(i * 5 + p * 3);
        var data = new Dataset("tiny", pixels, new int[40], 1, 2, 2, 2);
        var bn = new BatchNorm2d(1);
        var model = new Sequential(bn);
        bn.RunningMean!.CopyFrom([7f]);
        bn.RunningVar!.CopyFrom([9f]);
        BnRecalibration.Reestimate(model, data, Normalization.Identity(1), 20);

        // Reference in double: per batch mean and unbiased variance, then averaged (momentum=None in PyTorch).
        double[] means = new double[2], vars = new double[2];
        for (int b = 0; b < 2; b++)
        {
            var v = Enumerable.Range(b * 20, 20).SelectMany(i => Enumerable.Range(0, 4).Select(p => (i * 5 + p * 3) / 255.0)).ToArray();
            means[b] = v.Average();
            vars[b] = v.Sum(x => (x - means[b]) * (x - means[b])) / (v.Length - 1);
        }
        Assert.Equal(means.Average(), bn.RunningMean.ToArray()[0], 5);
        Assert.Equal(vars.Average(), bn.RunningVar!.ToArray()[0], 5);
        Assert.Equal(2f, bn.NumBatchesTracked!.Item());
        Assert.Null(bn.Statistics);           // settings restored
        Assert.Equal(0.1f, bn.Momentum);

        // Evaluating with running statistics now differs from per-batch current statistics on a shifted batch.
        using var scope = new TensorScope();
        using var _ = NoiseKD.Autograd.Tape.NoGrad();
        model.Eval();
        var x = Tensor.FromArray([5f, 6f, 7f, 8f, 5f, 6f, 7f, 9f], [2, 1, 2, 2]);
        var running = model.Forward(x).ToArray();
        using (BnControl.Override(model, BnStatistics.Current)) Assert.NotEqual(running, model.Forward(x).ToArray());
    }

    [Fact]
    public void PreserveRestoresEveryBuffer()
    {
        var bn = new BatchNorm2d(2);
        var model = new Sequential(bn);
        bn.RunningMean!.CopyFrom([1f, 2f]);
        using (BnRecalibration.Preserve(model))
        {
            bn.ResetRunningStatistics();
            Assert.Equal([0f, 0f], bn.RunningMean.ToArray());
        }
        Assert.Equal([1f, 2f], bn.RunningMean.ToArray());
    }
}
