using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;

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

    /// <summary>The file extensions folder readers consider images (everything else is not looked at).</summary>
    public static readonly string[] Extensions =
        [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm", ".pnm", ".tga"];

    public static bool HasImageExtension(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    // 4 bytes per pixel at the budget, with room for a decoder's second buffer.
    static readonly Configuration Decoding = LimitedConfiguration(allocationLimitMegabytes: (int)(DefaultPixelBudget * 4 * 2 >> 20));

    static Configuration LimitedConfiguration(int allocationLimitMegabytes)
    {
        var configuration = Configuration.Default.Clone();
        configuration.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { AllocationLimitMegabytes = allocationLimitMegabytes });
        return configuration;
    }

    /// <summary>The image as RGB planes of floats in [0, 1] ([3, H, W]; grey images have three equal planes).</summary>
    public static HostImage Read(string path, long pixelBudget = DefaultPixelBudget)
    {
        var (width, height, rgb) = ReadRgb24(path, pixelBudget);
        int plane = width * height;
        var planes = new float[3 * plane];
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++) planes[c * plane + p] = rgb[3 * p + c] * (1f / 255f);
        return new HostImage(3, height, width, planes);
    }

    /// <summary>The image's pixels as 8-bit RGB, interleaved per pixel, row-major (the first frame of an animation).</summary>
    public static (int Width, int Height, byte[] Rgb) ReadRgb24(string path, long pixelBudget = DefaultPixelBudget)
    {
        try
        {
            var info = Image.Identify(Decoding, path, out _)
                       ?? throw new DataFormatException($"'{path}' is not an image in a format we read (PNG, JPEG, BMP, GIF, WebP, TIFF, PGM/PPM, TGA)");
            if ((long)info.Width * info.Height > pixelBudget)
                throw new DataFormatException($"'{path}' is {info.Width}x{info.Height} pixels, more than the {pixelBudget:N0} we decode");
            using var image = Image.Load<Rgb24>(Decoding, path);
            var rgb = new byte[checked(3 * image.Width * image.Height)];
            image.CopyPixelDataTo(rgb);
            return (image.Width, image.Height, rgb);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidMemoryOperationException or IOException
                                  or UnauthorizedAccessException or ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            // A crafted or damaged file can make a 2.x decoder throw what is normally a bug (index, argument); for a
            // file we were asked to read it is the file's fault.
            throw new DataFormatException($"cannot read image '{path}': {FirstSentence(e.Message)}");
        }
    }

    static string FirstSentence(string message) => message.Split('\n')[0].TrimEnd('.', ' ');
}
