using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace NoiseKD.Data;

/// <summary>
/// Reads image files (PNG, JPEG, BMP, GIF, WebP, TIFF, PGM/PPM and the other netpbm kinds, TGA) through
/// ImageSharp. ImageSharp 2.x has reported flaws with crafted images, so a file's header is read first and
/// an image above the pixel budget is refused before any pixel is decoded, the decoder's allocations are
/// capped, and whatever the decoder throws becomes one <see cref="DataFormatException"/> sentence.
/// </summary>
public static class ImageFile
{
    /// <summary>Largest image decoded: 64 megapixels (a CIFAR-10 batch image is 10.24, a 24-megapixel photo fits).</summary>
    public const long DefaultPixelBudget = 64L << 20;

    // 4 bytes per pixel at the budget, with room for a decoder's second buffer.
    static readonly Configuration Decoding = LimitedConfiguration(allocationLimitMegabytes: (int)(DefaultPixelBudget * 4 * 2 >> 20));

    static Configuration LimitedConfiguration(int allocationLimitMegabytes)
    {
        var configuration = Configuration.Default.Clone();
        configuration.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { AllocationLimitMegabytes = allocationLimitMegabytes });
        return configuration;
    }

    /// <summary>
    /// The image as planes of floats in [0, 1]: [1, H, W] when every pixel is grey (R = G = B), else [3, H, W] RGB.
    /// An image whose shorter edge exceeds <paramref name="maxShorterEdge"/> is first scaled down (bicubic) to it.
    /// </summary>
    public static HostImage Read(string path, int? maxShorterEdge = null, long pixelBudget = DefaultPixelBudget)
    {
        var (width, height, rgb) = ReadRgb24(path, maxShorterEdge, pixelBudget);
        int plane = width * height;
        bool grey = true;
        for (int p = 0; p < plane && grey; p++) grey = rgb[3 * p] == rgb[3 * p + 1] && rgb[3 * p] == rgb[3 * p + 2];
        int channels = grey ? 1 : 3;
        var planes = new float[channels * plane];
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < channels; c++) planes[c * plane + p] = rgb[3 * p + c] * (1f / 255f);
        return new HostImage(channels, height, width, planes);
    }

    /// <summary>The image's pixels as 8-bit RGB, interleaved per pixel, row-major (the first frame of an animation), scaled down as <see cref="Read"/> does.</summary>
    public static (int Width, int Height, byte[] Rgb) ReadRgb24(string path, int? maxShorterEdge = null, long pixelBudget = DefaultPixelBudget)
    {
        try
        {
            var info = Image.Identify(Decoding, path, out _)
                       ?? throw new DataFormatException($"'{path}' is not an image in a format we read (PNG, JPEG, BMP, GIF, WebP, TIFF, PGM/PPM, TGA)");
            if ((long)info.Width * info.Height > pixelBudget)
                throw new DataFormatException($"'{path}' is {info.Width}x{info.Height} pixels, more than the {pixelBudget:N0} we decode");
            using var image = Image.Load<Rgb24>(Decoding, path);
            int shorter = Math.Min(image.Width, image.Height);
            if (maxShorterEdge is int max && shorter > max)
                image.Mutate(x => x.Resize((int)Math.Round((double)image.Width * max / shorter), (int)Math.Round((double)image.Height * max / shorter)));
            var rgb = new byte[checked(3 * image.Width * image.Height)];
            image.CopyPixelDataTo(rgb);
            return (image.Width, image.Height, rgb);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidMemoryOperationException or IOException
                                  or UnauthorizedAccessException or ArgumentException or IndexOutOfRangeException or InvalidOperationException
                                  or ArithmeticException) // 2.1.13's netpbm decoder threw DivideByZeroException (PbmDecoderCore.ProcessUpscaling) on a fuzzed header
        {
            // A crafted or damaged file can make a 2.x decoder throw what is normally a bug (index, argument); for a
            // file we were asked to read it is the file's fault.
            throw new DataFormatException($"cannot read image '{path}': {FirstSentence(e.Message)}");
        }
    }

    static string FirstSentence(string message) => message.Split('\n')[0].TrimEnd('.', ' ');
}
