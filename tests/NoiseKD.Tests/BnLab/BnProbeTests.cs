using NoiseKD.Distillation;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using NoiseKD.Tests.Cli;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.BnLab;

public class BnProbeTests
{
    /// <summary>conv -> bn -> relu -> conv -> bn, with non-trivial running statistics.</summary>
    static Sequential TinyNet()
    {
        Generator.ManualSeed(4);
        var net = new Sequential(new Conv2d(2, 3, 3, padding: 1), new BatchNorm2d(3), new ReLU(), new Conv2d(3, 4, 1), new BatchNorm2d(4));
        foreach (var bn in BnControl.Layers(net))
        {
            bn.RunningMean!.CopyFrom(Enumerable.Range(0, bn.NumFeatures).Select(i => 0.3f * i - 0.2f).ToArray());
            bn.RunningVar!.CopyFrom(Enumerable.Range(0, bn.NumFeatures).Select(i => 0.5f + 0.25f * i).ToArray());
        }
        return net;
    }

    [Fact]
    public void InputStatisticsAndShiftMatchAFloat64Computation()
    {
        var net = TinyNet();
        var gen = new Generator(8);
        var inputs = Enumerable.Range(0, 3).Select(_ => { using (TensorScope.Suspend()) return gen.Normal([5, 2, 4, 3], 0.5f, 2f); }).ToList();
        var result = BnProbe.Capture(net, inputs.Select(x => (Func<Tensor>)(() => x)), BnStatistics.Running);

        // Reference: run the first conv alone and compute the first BN's input statistics in double.
        var conv = (Conv2d)net[0];
        var values = new List<double>[3];
        for (int c = 0; c < 3; c++) values[c] = new();
        using (var scope = new TensorScope())
        using (NoiseKD.Autograd.Tape.NoGrad())
            foreach (var x in inputs)
            {
                var y = conv.Forward(x).ToArray();
                for (int i = 0; i < y.Length; i++) values[i / 12 % 3].Add(y[i]);
            }
        var bn1 = result.Layers[0];
        for (int c = 0; c < 3; c++)
        {
            double mean = values[c].Average(), variance = values[c].Average(v => (v - mean) * (v - mean));
            Assert.Equal(mean, bn1.Mean[c], 5);
            Assert.Equal(variance, bn1.Var[c], 4);
        }
        // Symmetric KL of per-channel Gaussians, written out in float64.
        double expected = Enumerable.Range(0, 3).Average(c =>
        {
            double m1 = bn1.Mean[c], v1 = bn1.Var[c], m2 = 0.3 * c - 0.2, v2 = 0.5 + 0.25 * c;
            double kl12 = 0.5 * (Math.Log(v2 / v1) + (v1 + (m1 - m2) * (m1 - m2)) / v2 - 1);
            double kl21 = 0.5 * (Math.Log(v1 / v2) + (v2 + (m1 - m2) * (m1 - m2)) / v1 - 1);
            return kl12 + kl21;
        });
        Assert.Equal(expected, bn1.ShiftFromRunning, 6);
        Assert.Equal(2, result.Layers.Count);
        Assert.All(BnControl.Layers(net), l => Assert.Null(l.Statistics)); // the probe restored the layers
    }

    [Fact]
    public void ShiftIsZeroWhenInputsMatchTheRunningStatistics()
    {
        Assert.Equal(0, BnProbe.MeanSymmetricKl([1, 2], [3, 4], [1, 2], [3, 4]), 12);
        Assert.True(BnProbe.MeanSymmetricKl([0], [1], [3], [1]) > BnProbe.MeanSymmetricKl([0], [1], [1], [1]));
    }

    [Fact]
    public void ShiftOrderPutsTheLeastShiftedLayersOnRunningStatistics()
    {
        var net = TinyNet();
        var order = BnProbe.RankByShift(net, [() => new Generator(1).Normal([6, 2, 4, 4])]);
        Assert.Equal(2, order.Length);
        new TeacherBn(50, "shift").Apply(net, order);
        var layers = BnControl.Layers(net);
        Assert.Equal(BnStatistics.Running, layers[order[0]].Statistics);
        Assert.Equal(BnStatistics.Current, layers[order[1]].Statistics);
        Assert.Throws<InvalidOperationException>(() => new TeacherBn(50, "shift").Apply(net));
    }

}

[Collection(nameof(ConsoleCollection))]
public class BnReportCommandTests
{
    [Fact]
    public void BnReportWritesReportPlotsAndCsv()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 128, 64);
        new Trainer(new TrainOptions(new NoiseKD.Models.ModelSpec("resnet18", 0.0625f), "fashion-mnist", dir.File("t"), 1, 32, Seed: 1, DataRoot: dir.Path)).Run();
        var (code, output, error) = CliRunner.Run("bn-report", "--model", dir.File("t/model.safetensors"), "--data-root", dir.Path, "--samples", "64",
                                                  "--batch-size", "32", "--out", dir.File("bn"));
        Assert.True(code == 0, error);
        foreach (var f in new[] { "REPORT.md", "bn_layers.csv", "input_shift.svg", "normalized_shift.svg", "pooled_features.svg", "layer_histograms.png" })
            Assert.True(File.Exists(dir.File("bn/" + f)), f);
        var csv = File.ReadAllLines(dir.File("bn/bn_layers.csv"));
        Assert.Equal(1 + 3 * 20, csv.Length); // header + 20 BN layers x 3 conditions
        // Under current statistics the normalized values are (almost exactly) standard: far less shifted than noise under RS.
        double Norm(string condition) => csv.Skip(1).Select(l => l.Split(',')).Where(p => p[2] == condition).Average(p => double.Parse(p[5], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(Norm("noise + CS") < Norm("noise + RS"));
        Assert.Contains("](layer_histograms.png)", File.ReadAllText(dir.File("bn/REPORT.md")));
        using var grid = SixLabors.ImageSharp.Image.Load(dir.File("bn/layer_histograms.png"));
        Assert.Equal(NoiseKD.Studies.HistogramGrid.CellOrigin(20).Y, grid.Height); // 20 layers: 4 rows of 5 cells
    }
}
