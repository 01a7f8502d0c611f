using NoiseKD.Backends.Cpu;
using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Models;
using NoiseKD.Tests.Cli;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace NoiseKD.Tests.Pictures;

/// <summary>
/// Image grids read back from their PNG files: every pixel of every cell is the input image's value
/// de-normalized (x * std + mean, clipped to [0, 1], times 255), computed here; the gaps are white;
/// `distill` writes the first batch the student saw, or one row per teacher class for a balanced set.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class ImageGridTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void PngPixelsAreTheDenormalizedInputs(int channels)
    {
        const int h = 5, w = 7;
        float[] mean = [0.5f, 0.4f, 0.3f], std = [0.25f, 0.2f, 0.3f];
        var normalization = new Normalization(mean[..channels], std[..channels]);
        var rng = new Random(channels);
        float[][] rows = [Draw(rng, 3 * channels * h * w), Draw(rng, 0), Draw(rng, 2 * channels * h * w)]; // the empty row is kept
        var grid = new ImageGrid(channels, h, w, normalization);
        foreach (var row in rows) grid.AddRow(row);
        using var dir = new TempDir();
        grid.WritePng(dir.File("g.png"));

        using var image = Image.Load<Rgb24>(dir.File("g.png"));
        Assert.Equal(ImageGrid.CellOrigin(3, 3, h, w, 0, 0), (image.Width, image.Height));
        for (int r = 0; r < rows.Length; r++)
            for (int k = 0; k < rows[r].Length / (channels * h * w); k++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        var (gx, gy) = ImageGrid.CellOrigin(r, k, h, w, y, x);
                        byte[] expected = Enumerable.Range(0, 3).Select(c => Expected(rows[r][((k * channels) + Math.Min(c, channels - 1)) * h * w + y * w + x],
                                                                                     normalization, Math.Min(c, channels - 1))).ToArray();
                        foreach (var (dx, dy) in new[] { (0, 0), (ImageGrid.Scale - 1, ImageGrid.Scale - 1) })
                        {
                            var p = image[gx + dx, gy + dy];
                            Assert.Equal(expected, new[] { p.R, p.G, p.B });
                        }
                    }
        Assert.Equal(new Rgb24(255, 255, 255), image[0, 0]);                                        // the border
        var (emptyX, emptyY) = ImageGrid.CellOrigin(1, 0, h, w, 2, 2);
        Assert.Equal(new Rgb24(255, 255, 255), image[emptyX, emptyY]);                              // the empty row
    }

    [Fact]
    public void DistillDrawsTheFirstBatchTheStudentSaw()
    {
        using var dir = new TempDir();
        string teacher = Teacher(dir);
        var (code, _, error) = Distill(dir, teacher, "plain", "--transfer", "gaussian", "--seed", "4");
        Assert.True(code == 0, error);

        var normalization = Normalization.FashionMnist;
        var source = TransferSet.Parse("gaussian", 1, 28, normalization, 4 + 1, CpuBackend.Instance, () => throw new InvalidOperationException());
        float[] first = source.Next(16).ToArray();
        using var image = Image.Load<Rgb24>(dir.File("plain/transfer.png"));
        Assert.Equal(ImageGrid.CellOrigin(2, TransferPreview.Columns, 28, 28, 0, 0), (image.Width, image.Height)); // 16 images: 2 rows of 8
        for (int k = 0; k < 16; k++)
        {
            var (gx, gy) = ImageGrid.CellOrigin(k / 8, k % 8, 28, 28, 13, 11);
            Assert.Equal(Expected(first[k * 784 + 13 * 28 + 11], normalization, 0), image[gx, gy].R);
        }
    }

    [Fact]
    public void BalancedDistillShowsOneRowPerTeacherClass()
    {
        using var dir = new TempDir();
        string teacher = Teacher(dir);
        var (code, _, error) = Distill(dir, teacher, "balanced", "--transfer", "uniform", "--balance", "2", "--balance-pool", "64");
        Assert.True(code == 0, error);
        using var image = Image.Load<Rgb24>(dir.File("balanced/transfer.png"));
        Assert.Equal(ImageGrid.CellOrigin(10, 0, 28, 28, 0, 0).Y, image.Height); // ten classes, ten rows
    }

    static (int, string, string) Distill(TempDir dir, string teacher, string name, params string[] extra) =>
        CliRunner.Run(["distill", "--teacher", teacher, "--student-arch", "lenet5-half", "--epochs", "1", "--steps", "1", "--batch-size", "16",
                       "--eval-batch-size", "50", "--adjust-samples", "0", "--out", dir.File(name), "--data-root", dir.Path, .. extra]);

    /// <summary>A random small teacher on synthetic Fashion-MNIST: the pictures do not depend on its quality.</summary>
    static string Teacher(TempDir dir)
    {
        SyntheticFashionMnist.Write(dir.Path, 32, 50);
        var spec = new ModelSpec("resnet18", 0.0625f, 1, 10, 28);
        string path = dir.File("teacher.safetensors");
        ModelFile.Save(path, spec.Create(), spec, Normalization.FashionMnist.Mean, Normalization.FashionMnist.Std,
                       new Dictionary<string, string> { ["dataset"] = "fashion-mnist" });
        return path;
    }

    static float[] Draw(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();

    /// <summary>The displayed value in float32, the precision the grid is specified in (a double reference would round differently at .5 boundaries).</summary>
    static byte Expected(float v, Normalization normalization, int c)
    {
        float shown = v * normalization.Std[c] + normalization.Mean[c];
        return (byte)MathF.Round((shown < 0f ? 0f : shown > 1f ? 1f : shown) * 255f);
    }
}
