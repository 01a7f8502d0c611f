using NoiseKD.Data;

namespace NoiseKD.Tests;

/// <summary>A tiny learnable dataset in Fashion-MNIST's real file format, written under a test's data root.</summary>
public static class SyntheticFashionMnist
{
    /// <summary>Class k images are bright in horizontal band k (learnable in a few steps).</summary>
    public static void Write(string root, int trainCount, int testCount)
    {
        string dir = Path.Combine(root, "fashion-mnist");
        Directory.CreateDirectory(dir);
        foreach (var (prefix, count, seed) in new[] { ("train", trainCount, 1), ("t10k", testCount, 2) })
        {
            var rng = new Random(seed);
            var pixels = new byte[count * 28 * 28];
            var labels = new byte[count];
            for (int i = 0; i < count; i++)
            {
                int label = rng.Next(4);
                labels[i] = (byte)label;
                for (int p = 0; p < 784; p++)
                {
                    int row = p / 28;
                    bool band = row >= label * 7 && row < label * 7 + 7;
                    pixels[i * 784 + p] = (byte)Math.Clamp((band ? 180 : 40) + rng.Next(-40, 40), 0, 255);
                }
            }
            IdxFormat.Write(Path.Combine(dir, $"{prefix}-images-idx3-ubyte.gz"), pixels, count, 28, 28);
            IdxFormat.Write(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte.gz"), labels, count);
        }
    }

}
