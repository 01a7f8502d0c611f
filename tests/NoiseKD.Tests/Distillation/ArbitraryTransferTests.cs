using NoiseKD.Autograd;
using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using Xunit;

namespace NoiseKD.Tests.Distillation;

[Collection(SeededRunsCollection.Name)]
public class ArbitraryTransferTests
{
    [Fact]
    public void CropResizeIsExactOnConstantsAndIdentityAtFullSize()
    {
        var px = Enumerable.Range(0, 16).Select(i => i / 16f).ToArray();
        var image = new HostImage(1, 4, 4, px);
        var same = new float[16];
        ImageOps.CropResize(image, 0, 0, 4, 4, same);
        Assert.Equal(px, same);
        var half = new float[4];
        ImageOps.CropResize(image, 0, 0, 4, 2, half);
        // Each output pixel samples the centre of a 2x2 block: the block's mean.
        Assert.Equal((0 + 1 + 4 + 5) / 64f, half[0], 6);
        var grey = ImageOps.ToChannels(new HostImage(3, 1, 1, [1f, 0f, 0f]), 1);
        Assert.Equal(0.299f, grey.Pixels[0], 6);
    }

    [Theory]
    [InlineData("shapes")]
    [InlineData("plasma")]
    [InlineData("dead-leaves")]
    public void ProceduralImagesAreVariedAndInRange(string kind)
    {
        var g = new Generator(3);
        var a = new float[3 * 28 * 28];
        var b = new float[3 * 28 * 28];
        ProceduralImages.Draw(kind, g, 3, 28, a);
        ProceduralImages.Draw(kind, g, 3, 28, b);
        Assert.All(a, v => Assert.InRange(v, 0f, 1f));
        Assert.NotEqual(a, b);
        Assert.True(a.Distinct().Count() > 2, $"{kind} should not be flat");
    }

    [Fact]
    public void FolderTransferCropsFitTheTeacherInput()
    {
        using var dir = new TempDir();
        var rgb = new HostImage(3, 40, 50, Enumerable.Range(0, 3 * 40 * 50).Select(i => (i % 255) / 255f).ToArray());
        NoiseKD.Tests.Data.TestImages.Write(dir.File("a.png"), rgb);
        NoiseKD.Tests.Data.TestImages.Write(dir.File("b.jpg"), new HostImage(1, 30, 30, Enumerable.Repeat(0.5f, 900).ToArray()));
        var transfer = TransferSet.Parse("folder:" + dir.Path, 1, 28, Normalization.Identity(1), 1, Devices.Cpu, () => null!);
        using var scope = new TensorScope();
        var x = transfer.Next(16);
        Assert.Equal([16, 1, 28, 28], x.Shape);
        Assert.All(x.ToArray(), v => Assert.InRange(v, 0f, 1f));
        Assert.Throws<DirectoryNotFoundException>(() => TransferSet.Parse("folder:" + dir.File("nothing-here"), 1, 28, Normalization.Identity(1), 1, Devices.Cpu, () => null!));
    }

    /// <summary>A fake teacher whose prediction is decided by the mean input value: class floor(10 * clamp(mean, 0, 0.999)).</summary>
    sealed class MeanBinTeacher : Module
    {
        protected override Tensor OnForward(Tensor x)
        {
            int n = x.Shape[0], per = (int)(x.Numel / n);
            var data = x.ToArray();
            var logits = new float[n * 10];
            for (int i = 0; i < n; i++)
            {
                double mean = data.AsSpan(i * per, per).ToArray().Average();
                int bin = (int)(Math.Clamp(mean, 0, 0.999) * 10);
                for (int k = 0; k < 10; k++) logits[i * 10 + k] = -Math.Abs(k - bin) - (float)Math.Abs(mean * 10 - k - 0.5) * 0.01f;
            }
            return Tensor.FromArray(logits, [n, 10]);
        }
    }

    [Fact]
    public void BalancingEvensOutTheTeachersClasses()
    {
        // Uniform pixels average near 0.5: nearly every candidate lands in class 4 or 5 unbalanced.
        var source = new UniformTransfer(1, 4, Normalization.Identity(1), new Generator(1), Devices.Cpu);
        var teacher = new MeanBinTeacher();
        var (set, report) = BalancedTransfer.Build(source, teacher, 10, new BalanceOptions(20, 2000), 100, 9, Devices.Cpu);
        Assert.Equal(2000, report.Pool);
        Assert.True(report.Before[4] + report.Before[5] > 1200, string.Join(",", report.Before));
        Assert.Equal(20, report.After[4]);
        Assert.Equal(20, report.After[5]);
        Assert.All(report.After, c => Assert.Equal(20, c)); // classes never predicted are filled with their most probable candidates
        Assert.True(report.Filled[0] > 0);
        Assert.True(200 == set.Count, $"count {set.Count}; before {string.Join(",", report.Before)} after {string.Join(",", report.After)} filled {string.Join(",", report.Filled)}");
        using var scope = new TensorScope();
        var seen = new HashSet<float>();
        for (int i = 0; i < 10; i++) foreach (var v in set.Next(20).ToArray()) seen.Add(v);
        Assert.True(seen.Count > 100);

        var (skipped, skipReport) = BalancedTransfer.Build(new UniformTransfer(1, 4, Normalization.Identity(1), new Generator(1), Devices.Cpu),
                                                           teacher, 10, new BalanceOptions(20, 2000, "skip"), 100, 9, Devices.Cpu);
        Assert.All(skipReport.Filled, f => Assert.Equal(0, f));
        Assert.Equal(skipReport.After.Sum(), skipped.Count);
        Assert.True(skipped.Count < 200);
    }

    [Fact]
    public void ToppingUpNeverPutsOneImageInTwoClasses()
    {
        // Uniform pixels: classes 0-3 and 6-9 are rarely the argmax, and their most probable candidates overlap (the
        // darkest images are the most probable for class 0 and class 1 alike). Every kept image must be distinct.
        var teacher = new MeanBinTeacher();
        var (set, report) = BalancedTransfer.Build(new UniformTransfer(1, 4, Normalization.Identity(1), new Generator(3), Devices.Cpu),
                                                   teacher, 10, new BalanceOptions(20, 600), 100, 9, Devices.Cpu);
        Assert.True(report.Filled.Sum() > 40, string.Join(",", report.Filled));
        using var scope = new TensorScope();
        var images = set.Next(set.Count).ToArray();
        var distinct = Enumerable.Range(0, set.Count).Select(i => string.Join(",", images.AsSpan(i * 16, 16).ToArray())).ToHashSet();
        Assert.Equal(set.Count, distinct.Count);
        Assert.Equal(report.After.Sum(), set.Count);
    }

    [Fact]
    public void DefaultPoolScalesWithTheTeachersClasses()
    {
        Assert.Equal(10 * 5 * 100, new BalanceOptions(5).Pool(100));
        Assert.Equal(10 * 5 * 10, new BalanceOptions(5).Pool(10));
        Assert.Equal(777, new BalanceOptions(5, 777).Pool(100));
        Assert.Equal(5 * 100, BalanceOptions.Unbalanced(5).Pool(100));
        Assert.Equal(30, BalanceOptions.Parse(3, null, "fill").Pool(1));
    }

    [Fact]
    public void BalancedDistillationRecordsHistogramsInTheMetrics()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 256, 100);
        var teacher = new NoiseKD.Training.Trainer(new NoiseKD.Training.TrainOptions(new NoiseKD.Models.ModelSpec("resnet18", 0.0625f), "fashion-mnist",
            dir.File("t"), 1, 32, Seed: 1, DataRoot: dir.Path));
        teacher.Run();
        var options = new DistillOptions(dir.File("t/model.safetensors"), "resnet18", dir.File("s"), 0.0625f, Transfer: "plasma", Epochs: 1,
            StepsPerEpoch: 4, BatchSize: 16, EvalBatchSize: 50, AdjustSamples: 0, DataRoot: dir.Path, Balance: new BalanceOptions(8, 320));
        var summary = new Distiller(options).Run();
        Assert.Equal(320, (int)summary["balance_pool"]);
        var rows = new NoiseKD.Training.MetricsLog(dir.File("s/metrics.jsonl")).ReadAll();
        Assert.Equal(0, rows[0]["epoch"].GetInt32());
        Assert.Equal(10, rows[0]["histogram_before"].GetArrayLength());
        Assert.Equal(320, rows[0]["histogram_before"].EnumerateArray().Sum(e => e.GetInt32()));
        Assert.All(rows[0]["histogram_after"].EnumerateArray(), e => Assert.Equal(8, e.GetInt32()));
    }
}
