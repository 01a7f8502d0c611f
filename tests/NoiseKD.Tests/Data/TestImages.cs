using NoiseKD.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Pbm;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing.Processors.Quantization;

namespace NoiseKD.Tests.Data;

/// <summary>Writes test images with ImageSharp's own encoders, the format chosen by the file extension.</summary>
public static class TestImages
{
    /// <summary>Saves a [1 or 3, H, W] image of values in [0, 1] (rounded to 8 bits); WebP lossless, JPEG at quality 100, GIF without dithering.</summary>
    public static void Write(string path, HostImage image)
    {
        int plane = image.Height * image.Width;
        byte At(int c, int p) => (byte)Math.Clamp(MathF.Round(image.Pixels[(image.Channels == 1 ? 0 : c) * plane + p] * 255f), 0, 255);
        using var output = new Image<Rgb24>(image.Width, image.Height);
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                int p = y * image.Width + x;
                output[x, y] = new Rgb24(At(0, p), At(1, p), At(2, p));
            }
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".webp": output.Save(path, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }); break;
            case ".jpg": output.Save(path, new JpegEncoder { Quality = 100 }); break;
            case ".gif": output.Save(path, new GifEncoder { Quantizer = new WuQuantizer(new QuantizerOptions { Dither = null }) }); break;
            case ".pgm": output.Save(path, new PbmEncoder { ColorType = PbmColorType.Grayscale, Encoding = PbmEncoding.Binary }); break;
            case ".ppm": output.Save(path, new PbmEncoder { ColorType = PbmColorType.Rgb, Encoding = PbmEncoding.Binary }); break;
            default: output.Save(path); break;
        }
    }
}
