using NoiseKD.Data;
using Xunit;

namespace NoiseKD.Tests.Data;

public class DataLoaderTests
{
    static Dataset Ramp(int count) // image i holds pixel value i everywhere; label i % 3
    {
        var pixels = new byte[count * 4 * 4];
        for (int i = 0; i < count; i++) pixels.AsSpan(i * 16, 16).Fill((byte)i);
        return new Dataset("ramp", pixels, Enumerable.Range(0, count).Select(i => i % 3).ToArray(), 1, 4, 4, 3);
    }

    [Fact]
    public void EveryImageOnceAndNormalized()
    {
        var norm = new Normalization([0.5f], [0.25f]);
        var loader = new DataLoader(Ramp(23), 5, norm, shuffle: true, seed: 3);
        var seen = new List<int>();
        foreach (var batch in loader.Epoch(0))
            for (int i = 0; i < batch.Count; i++)
            {
                float v = batch.ImageData[i * 16];
                int pixel = (int)MathF.Round((v * 0.25f + 0.5f) * 255f);
                Assert.Equal(pixel % 3, batch.LabelData[i]);
                seen.Add(pixel);
            }
        Assert.Equal(Enumerable.Range(0, 23), seen.Order());
        Assert.NotEqual(Enumerable.Range(0, 23), seen); // shuffled
    }

    [Fact]
    public void SameSeedSameOrderDifferentEpochDiffers()
    {
        var norm = Normalization.Identity(1);
        int[] Order(ulong seed, int epoch) => new DataLoader(Ramp(40), 40, norm, true, seed).Epoch(epoch).First().LabelData.ToArray()
            .Select((_, i) => i).ToArray();
        float[] First(ulong seed, int epoch) => new DataLoader(Ramp(40), 40, norm, true, seed).Epoch(epoch).First().ImageData.ToArray();
        Assert.Equal(First(1, 0), First(1, 0));
        Assert.NotEqual(First(1, 0), First(1, 1));
        Assert.NotEqual(First(1, 0), First(2, 0));
        Assert.Equal(40, Order(1, 0).Length);
    }

    [Fact]
    public void DropLastAndBatchCount()
    {
        var loader = new DataLoader(Ramp(23), 5, Normalization.Identity(1), dropLast: true);
        Assert.Equal(4, loader.BatchesPerEpoch);
        Assert.Equal(4, loader.Epoch(0).Count());
        Assert.Equal(5, new DataLoader(Ramp(23), 5, Normalization.Identity(1)).Epoch(0).Count());
    }

    [Fact]
    public void CropShiftsAndPadsWithZeroPixel()
    {
        // One 1x4x4 image with distinct pixels; with padding 1 every output pixel is either an input pixel
        // shifted by the same (dy, dx) in [-1, 1], or the normalized value of a zero pixel.
        var pixels = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        var data = new Dataset("one", pixels, [0], 1, 4, 4, 1 + 1);
        var loader = new DataLoader(data, 1, Normalization.Identity(1), seed: 5, augmentation: new Augmentation(1, true));
        var shifts = new HashSet<(int, int, bool)>();
        for (int epoch = 0; epoch < 40; epoch++)
        {
            var img = loader.Epoch(epoch).First().ImageData.ToArray().Select(v => (int)MathF.Round(v * 255)).ToArray();
            bool matched = false;
            foreach (bool flip in new[] { false, true })
                for (int dy = -1; dy <= 1 && !matched; dy++)
                    for (int dx = -1; dx <= 1 && !matched; dx++)
                    {
                        bool ok = true;
                        for (int y = 0; y < 4 && ok; y++)
                            for (int x = 0; x < 4 && ok; x++)
                            {
                                int sy = y + dy, sx = (flip ? 3 - x : x) + dx;
                                int want = sy is >= 0 and < 4 && sx is >= 0 and < 4 ? pixels[sy * 4 + sx] : 0;
                                ok = img[y * 4 + x] == want;
                            }
                        if (ok) { matched = true; shifts.Add((dy, dx, flip)); }
                    }
            Assert.True(matched, $"epoch {epoch}: output is not a shifted/flipped crop");
        }
        Assert.True(shifts.Count > 5, "augmentation should vary between epochs");
    }

    [Fact]
    public void TwoCirclesHasTwoRadii()
    {
        var (points, labels) = TwoCircles.Generate(400, noise: 0f, factor: 0.5f, seed: 1);
        for (int i = 0; i < labels.Length; i++)
        {
            float r = MathF.Sqrt(points[2 * i] * points[2 * i] + points[2 * i + 1] * points[2 * i + 1]);
            Assert.Equal(labels[i] == 0 ? 1f : 0.5f, r, 4);
        }
        Assert.Equal(200, labels.Count(l => l == 1));
    }
}
