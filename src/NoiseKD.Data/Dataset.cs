namespace NoiseKD.Data;

/// <summary>
/// An image classification set held in memory as raw 8-bit pixels, NCHW (C channels of H x W per
/// image) with one label per image; normalization happens when batches are built.
/// </summary>
public sealed class Dataset
{
    public Dataset(string name, byte[] pixels, int[] labels, int channels, int height, int width, int classes)
    {
        long per = (long)channels * height * width;
        if (per <= 0 || pixels.LongLength != per * labels.Length)
            throw new InvalidDataException($"{name}: {pixels.LongLength} pixels do not make {labels.Length} images of {channels}x{height}x{width}");
        foreach (int label in labels)
            if ((uint)label >= (uint)classes) throw new InvalidDataException($"{name}: label {label} outside [0, {classes})");
        Name = name;
        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        Classes = classes;
    }

    public string Name { get; }
    public byte[] Pixels { get; }
    public int[] Labels { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }
    public int Count => Labels.Length;
    public int ImageSize => Channels * Height * Width;

    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * ImageSize, ImageSize);

    /// <summary>The first <paramref name="count"/> images (for quick runs and tests).</summary>
    public Dataset Take(int count)
    {
        count = Math.Min(count, Count);
        return new Dataset(Name, Pixels[..(count * ImageSize)], Labels[..count], Channels, Height, Width, Classes);
    }
}
