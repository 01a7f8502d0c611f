using NoiseKD.Data;
using Xunit;

namespace NoiseKD.Tests.Data;

/// <summary>Checks against the installed CIFAR-10 (`noisekd data fetch cifar10`); skipped with the reason where it is absent.</summary>
public class Cifar10StatisticsTests
{
    /// <summary>
    /// The normalization constants are the per-channel mean and (population) std of every training pixel in
    /// [0, 1], computed here in float64: 0.49140/0.48216/0.44653 and 0.24703/0.24349/0.26159, which round to the
    /// constants at four decimals. pytorch-cifar's std (0.2023/0.1994/0.2010) would fail this test.
    /// </summary>
    [InstalledCifar10Fact]
    public void NormalizationConstantsAreTheTrainingPixelsMeanAndStd()
    {
        var train = DatasetCatalog.Load("cifar10", train: true);
        Assert.Equal(50000, train.Count);
        int plane = 32 * 32;
        for (int c = 0; c < 3; c++)
        {
            double sum = 0, squares = 0;
            for (int i = 0; i < train.Count; i++)
                foreach (byte p in train.Image(i).Slice(c * plane, plane)) { double v = p / 255.0; sum += v; squares += v * v; }
            double n = (double)train.Count * plane, mean = sum / n, std = Math.Sqrt(squares / n - mean * mean);
            Assert.Equal(mean, Normalization.Cifar10.Mean[c], 5e-5);
            Assert.Equal(std, Normalization.Cifar10.Std[c], 5e-5);
        }
    }

    /// <summary>The standard CIFAR training augmentation: a crop of the 4-pixel zero-padded image and a flip.</summary>
    [Fact]
    public void CifarTrainsWithPadFourCropAndFlip() => Assert.Equal(new Augmentation(4, true), Augmentation.Standard("cifar10"));
}

public sealed class InstalledCifar10FactAttribute : FactAttribute
{
    public InstalledCifar10FactAttribute()
    {
        if (DatasetCatalog.Locate("cifar10") is null)
            Skip = $"CIFAR-10 is not installed under {DataRoot.Default} (run './noisekd data fetch cifar10')";
    }
}
