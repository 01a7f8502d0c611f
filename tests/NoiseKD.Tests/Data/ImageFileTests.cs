using System.Text;
using NoiseKD.Data;
using Xunit;

namespace NoiseKD.Tests.Data;

/// <summary>Image files in the formats users have, read through ImageSharp, checked against known pixel values.</summary>
public class ImageFileTests
{
    /// <summary>A 16x16 RGB image of four flat 8x8 quadrants (flat blocks survive JPEG's 8x8 DCT almost exactly).</summary>
    static readonly (byte R, byte G, byte B)[] Quadrants = [(200, 30, 60), (20, 180, 90), (70, 90, 240), (250, 250, 10)];

    static HostImage QuadrantImage()
    {
        var px = new float[3 * 256];
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
            {
                var q = Quadrants[(y / 8) * 2 + x / 8];
                px[y * 16 + x] = q.R / 255f;
                px[256 + y * 16 + x] = q.G / 255f;
                px[512 + y * 16 + x] = q.B / 255f;
            }
        return new HostImage(3, 16, 16, px);
    }

    [Theory]
    [InlineData(".png", 0)]
    [InlineData(".bmp", 0)]
    [InlineData(".tiff", 0)]
    [InlineData(".webp", 0)]
    [InlineData(".ppm", 0)]
    [InlineData(".gif", 0)]
    [InlineData(".jpg", 6)] // lossy: JPEG's colour conversion and chroma subsampling move flat colours a few levels
    public void EveryFormatReadsTheKnownPixels(string extension, int toleranceLevels)
    {
        using var dir = new TempDir();
        string path = dir.File("quadrants" + extension);
        TestImages.Write(path, QuadrantImage());

        var image = ImageFile.Read(path);

        Assert.Equal((3, 16, 16), (image.Channels, image.Height, image.Width));
        // Known values at each quadrant's centre (away from JPEG's block edges) and corner pixels.
        foreach (var (y, x) in new[] { (3, 3), (3, 12), (12, 3), (12, 12), (0, 0), (15, 15) })
        {
            var q = Quadrants[(y / 8) * 2 + x / 8];
            byte[] expected = [q.R, q.G, q.B];
            for (int c = 0; c < 3; c++)
                Assert.InRange(image.Pixels[c * 256 + y * 16 + x] * 255f, expected[c] - toleranceLevels - 1e-3f, expected[c] + toleranceLevels + 1e-3f);
        }
    }

    [Fact]
    public void GreyImagesComeBackAsOneChannel()
    {
        using var dir = new TempDir();
        var ramp = new HostImage(1, 4, 8, Enumerable.Range(0, 32).Select(i => i * 8 / 255f).ToArray());
        foreach (string extension in new[] { ".pgm", ".png" })
        {
            TestImages.Write(dir.File("ramp" + extension), ramp);
            var image = ImageFile.Read(dir.File("ramp" + extension));
            Assert.Equal((1, 4, 8), (image.Channels, image.Height, image.Width));
            for (int p = 0; p < 32; p++) Assert.Equal(p * 8, MathF.Round(image.Pixels[p] * 255f)); // the 8-bit levels written
        }
    }

    /// <summary>Netpbm written byte by byte here (no library), all four kinds: pixel (y, x) channel c holds 10*(y*3+x) + c.</summary>
    [Theory]
    [InlineData("P5", 1)]
    [InlineData("P6", 3)]
    [InlineData("P2", 1)]
    [InlineData("P3", 3)]
    public void HandWrittenNetpbmReadsAllFourKinds(string magic, int channels)
    {
        using var dir = new TempDir();
        var values = new List<int>();
        for (int p = 0; p < 6; p++) for (int c = 0; c < channels; c++) values.Add(10 * p + c);
        byte[] body = magic is "P5" or "P6" ? values.Select(v => (byte)v).ToArray() : Encoding.ASCII.GetBytes(string.Join(" ", values) + "\n");
        File.WriteAllBytes(dir.File("x.pnm"), Encoding.ASCII.GetBytes($"{magic}\n# comment\n3 2\n255\n").Concat(body).ToArray());

        var image = ImageFile.Read(dir.File("x.pnm"));

        Assert.Equal((channels, 2, 3), (image.Channels, image.Height, image.Width));
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < 6; p++) Assert.Equal((10 * p + c) / 255f, image.Pixels[c * 6 + p], 6);
    }

    [Fact]
    public void DamagedFilesAreOneSentenceNamingTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("notes.png"), "not an image at all");
        var png = TinyPng.EncodeRgb(64, 64, new byte[64 * 64 * 3], TinyPng.Filter.Paeth);
        File.WriteAllBytes(dir.File("cut.png"), png[..40]);
        foreach (string name in new[] { "notes.png", "cut.png" })
        {
            var e = Assert.Throws<DataFormatException>(() => ImageFile.Read(dir.File(name)));
            Assert.Contains(name, e.Message);
            Assert.DoesNotContain("\n", e.Message);
        }
    }

    [Fact]
    public void ImagesOverThePixelBudgetAreRefusedBeforeDecoding()
    {
        using var dir = new TempDir();
        TestImages.Write(dir.File("big.png"), QuadrantImage());
        var e = Assert.Throws<DataFormatException>(() => ImageFile.Read(dir.File("big.png"), pixelBudget: 255));
        Assert.Contains("16x16 pixels, more than the 255", e.Message);
    }

    [Fact]
    public void LargeImagesAreScaledDownToTheShorterEdge()
    {
        using var dir = new TempDir();
        TestImages.Write(dir.File("q.png"), QuadrantImage());
        var image = ImageFile.Read(dir.File("q.png"), maxShorterEdge: 4);
        Assert.Equal((3, 4, 4), (image.Channels, image.Height, image.Width));
        // The corner pixel is quadrant 0's colour, up to the bicubic kernel's reach into the neighbouring quadrants (a few levels).
        byte[] corner = [Quadrants[0].R, Quadrants[0].G, Quadrants[0].B];
        for (int c = 0; c < 3; c++) Assert.InRange(image.Pixels[c * 16] * 255f, corner[c] - 8f, corner[c] + 8f);
    }

    [Fact]
    public void AFolderIsReadRecursivelyCountingUnreadableFiles()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("photos/sub"));
        TestImages.Write(dir.File("photos/a.jpg"), QuadrantImage());
        TestImages.Write(dir.File("photos/sub/b.webp"), QuadrantImage());
        File.WriteAllText(dir.File("photos/sub/broken.png"), "no");
        File.WriteAllText(dir.File("photos/.DS_Store"), "hidden files are not looked at");

        var folder = ImageFolder.Read(dir.File("photos"));

        Assert.Equal(2, folder.Images.Count);
        Assert.Equal(1, folder.Skipped);
        Assert.Contains("broken.png", folder.SkippedExample);
        Assert.StartsWith("1 unreadable file skipped (e.g. '", folder.SkippedNote);
    }

    [Fact]
    public void AnEmptyOrAllUnreadableFolderIsOneClearError()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("empty"));
        Assert.Contains("holds no files", Assert.Throws<DataFormatException>(() => ImageFolder.Read(dir.File("empty"))).Message);
        File.WriteAllText(dir.File("empty/a.txt"), "x");
        File.WriteAllText(dir.File("empty/b.jpg"), "y");
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Read(dir.File("empty")));
        Assert.Contains("none of the 2 files", e.Message);
        Assert.Contains("a.txt", e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Read(dir.File("nowhere")));
    }
}
