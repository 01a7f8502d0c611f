using NoiseKD.Data;
using Xunit;

namespace NoiseKD.Tests.Data;

public class DataFormatTests
{
    static Dataset Random(int count, int c, int h, int w, int classes, int seed)
    {
        var rng = new System.Random(seed);
        var pixels = new byte[count * c * h * w];
        rng.NextBytes(pixels);
        return new Dataset("t", pixels, Enumerable.Range(0, count).Select(_ => rng.Next(classes)).ToArray(), c, h, w, classes);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IdxRoundTripsRawAndGzipped(bool gzip)
    {
        using var dir = new TempDir();
        var data = Random(7, 1, 5, 3, 10, 1);
        string ext = gzip ? ".gz" : "";
        Directory.CreateDirectory(dir.File("fashion-mnist"));
        IdxFormat.Write(dir.File($"fashion-mnist/t10k-images-idx3-ubyte{ext}"), data.Pixels, 7, 5, 3);
        IdxFormat.Write(dir.File($"fashion-mnist/t10k-labels-idx1-ubyte{ext}"), data.Labels.Select(l => (byte)l).ToArray(), 7);
        var loaded = DatasetCatalog.Load("fashion-mnist", train: false, dir.Path);
        Assert.Equal(data.Pixels, loaded.Pixels);
        Assert.Equal(data.Labels, loaded.Labels);
        Assert.Equal((1, 5, 3), (loaded.Channels, loaded.Height, loaded.Width));
    }

    [Fact]
    public void TruncatedIdxIsAClearError()
    {
        using var dir = new TempDir();
        IdxFormat.Write(dir.File("x"), new byte[60], 4, 5, 3);
        var bytes = File.ReadAllBytes(dir.File("x"));
        File.WriteAllBytes(dir.File("x"), bytes[..^5]);
        var e = Assert.Throws<DataFormatException>(() => IdxFormat.Read(dir.File("x")));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void MissingDatasetSaysHowToInstall()
    {
        using var dir = new TempDir();
        // Debian's copy may exist on this machine; a mnist lookup under an empty root never finds one.
        var e = Assert.Throws<DataFormatException>(() => DatasetCatalog.Load("mnist", train: true, dir.Path));
        Assert.Contains("--data-root", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CifarRoundTripsInTheRealLayout(bool cifar100)
    {
        using var dir = new TempDir();
        string folder = dir.File(cifar100 ? "cifar100" : "cifar10");
        Directory.CreateDirectory(folder);
        var batches = Enumerable.Range(0, 5).Select(i => Random(3, 3, 32, 32, cifar100 ? 100 : 10, 10 + i)).ToArray();
        if (cifar100) CifarFormat.Write(Path.Combine(folder, "train.bin"), batches[0], true);
        else for (int i = 0; i < 5; i++) CifarFormat.Write(Path.Combine(folder, $"data_batch_{i + 1}.bin"), batches[i], false);
        var loaded = DatasetCatalog.Load(cifar100 ? "cifar100" : "cifar10", train: true, dir.Path);
        var expected = cifar100 ? batches[..1] : batches;
        Assert.Equal(expected.SelectMany(b => b.Labels), loaded.Labels);
        Assert.Equal(expected.SelectMany(b => b.Pixels), loaded.Pixels);
        Assert.Equal(cifar100 ? 100 : 10, loaded.Classes);
        // Record layout: label byte(s) then R, G, B planes.
        var raw = File.ReadAllBytes(Path.Combine(folder, cifar100 ? "train.bin" : "data_batch_1.bin"));
        int labelBytes = cifar100 ? 2 : 1;
        Assert.Equal(batches[0].Labels[0], raw[labelBytes - 1]);
        Assert.Equal(batches[0].Pixels[1024], raw[labelBytes + 1024]); // first green pixel
    }

    [Fact]
    public void TruncatedCifarIsAClearError()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("test_batch.bin"), new byte[3073 * 2 - 10]);
        var e = Assert.Throws<DataFormatException>(() => DatasetCatalog.Load("cifar10", train: false, dir.Path));
        Assert.Contains("truncated", e.Message);
    }
}
