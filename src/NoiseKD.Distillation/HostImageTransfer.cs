using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation;

/// <summary>
/// A transfer source whose images are made on the host as pixels in [0, 1] at the teacher's input size,
/// then normalized like the teacher's data and uploaded.
/// </summary>
public abstract class HostImageTransfer(int channels, int size, Normalization normalization, Generator generator, IBackend device) : TransferSet
{
    protected int Channels { get; } = channels;
    protected int Size { get; } = size;
    protected Generator Generator { get; } = generator;

    public override ulong Position { get => Generator.Offset; set => Generator.Offset = value; }

    /// <summary>Writes one image, [C, Size, Size] in [0, 1].</summary>
    protected abstract void Draw(Span<float> pixels);

    public override Tensor Next(int batchSize)
    {
        int per = Channels * Size * Size, plane = Size * Size;
        var host = new float[batchSize * per];
        for (int i = 0; i < batchSize; i++)
        {
            var image = host.AsSpan(i * per, per);
            Draw(image);
            for (int c = 0; c < Channels; c++)
            {
                float mean = normalization.Mean[c], inv = 1f / normalization.Std[c];
                var p = image.Slice(c * plane, plane);
                for (int k = 0; k < plane; k++) p[k] = (p[k] - mean) * inv;
            }
        }
        return Tensor.FromArray(host, [batchSize, Channels, Size, Size], device);
    }
}

/// <summary>Procedural images: shapes, plasma or dead leaves.</summary>
public sealed class ProceduralTransfer(string kind, int channels, int size, Normalization normalization, Generator generator, IBackend device)
    : HostImageTransfer(channels, size, normalization, generator, device)
{
    protected override void Draw(Span<float> pixels) => ProceduralImages.Draw(kind, Generator, Channels, Size, pixels);
    public override string Describe() => $"procedural {kind} images";
}

/// <summary>
/// Random square crops (side between half and all of the shorter edge) of a fixed list of images, resized
/// bilinearly to the teacher's input and converted to its channel count: natural images unrelated to the task.
/// </summary>
public sealed class ImageListTransfer(string name, IReadOnlyList<HostImage> images, int channels, int size, Normalization normalization,
                                      Generator generator, IBackend device) : HostImageTransfer(channels, size, normalization, generator, device)
{
    readonly HostImage[] _images = images.Count > 0 ? images.Select(i => ImageOps.ToChannels(i, channels)).ToArray()
                                                    : throw new ArgumentException($"{name}: no images");

    protected override void Draw(Span<float> pixels)
    {
        var image = _images[Generator.NextInt(_images.Length)];
        int shorter = Math.Min(image.Height, image.Width);
        int side = Math.Max(1, shorter / 2 + Generator.NextInt(shorter - shorter / 2 + 1));
        int top = Generator.NextInt(image.Height - side + 1), left = Generator.NextInt(image.Width - side + 1);
        ImageOps.CropResize(image, top, left, side, Size, pixels);
    }

    public override string Describe() => $"{name} ({_images.Length} images, random crops)";

    /// <summary>
    /// Photos larger than this are scaled down on reading (crops go to a teacher's 28-32 pixels, and memory holds every
    /// image as floats); the scikit-image photos (at most 660 pixels) stay as they are.
    /// </summary>
    const int MaxShorterEdge = 1024;

    /// <summary>Every readable image under a folder, recursively (PNG, JPEG, BMP, GIF, WebP, TIFF, PGM/PPM); unreadable files are counted in the description.</summary>
    public static ImageListTransfer FromFolder(string folder, int channels, int size, Normalization normalization, Generator generator, IBackend device)
    {
        var read = ImageFolder.Read(folder, MaxShorterEdge);
        return new ImageListTransfer(read.Skipped == 0 ? $"folder {folder}" : $"folder {folder}; {read.SkippedNote}", read.Images, channels, size, normalization, generator, device);
    }

    /// <summary>A dataset's images used without labels, as crops resized to the teacher's input.</summary>
    public static ImageListTransfer FromDataset(Dataset data, int channels, int size, Normalization normalization, Generator generator, IBackend device)
    {
        var images = Enumerable.Range(0, data.Count).Select(i =>
        {
            var raw = data.Image(i);
            var px = new float[raw.Length];
            for (int k = 0; k < raw.Length; k++) px[k] = raw[k] / 255f;
            return new HostImage(data.Channels, data.Height, data.Width, px);
        }).ToList();
        return new ImageListTransfer($"dataset {data.Name}", images, channels, size, normalization, generator, device);
    }
}
