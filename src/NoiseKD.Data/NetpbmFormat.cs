using System.Text;
using NoiseKD.IO;

namespace NoiseKD.Data;

/// <summary>An image as planes of floats in [0, 1]: [channels, height, width].</summary>
public sealed record HostImage(int Channels, int Height, int Width, float[] Pixels);

/// <summary>
/// Netpbm images (PGM: P2 ASCII / P5 binary grey; PPM: P3 ASCII / P6 binary RGB), the format any image
/// tool converts to (ImageMagick's convert, netpbm's pngtopnm). Maxval up to 65535; comments allowed.
/// </summary>
public static class NetpbmFormat
{
    public static HostImage Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"cannot read image '{path}': {e.Message}");
        }
        return Parse(bytes, path);
    }

    public static HostImage Parse(byte[] bytes, string source)
    {
        int pos = 0;
        string magic = Token(bytes, ref pos, source);
        int channels = magic switch
        {
            "P2" or "P5" => 1,
            "P3" or "P6" => 3,
            _ => throw new DataFormatException($"'{source}' is not a PGM/PPM image (magic '{magic}'); convert it, e.g. 'convert in.png out.ppm'"),
        };
        int width = Number(bytes, ref pos, source), height = Number(bytes, ref pos, source), maxval = Number(bytes, ref pos, source);
        if (width <= 0 || height <= 0 || maxval <= 0 || maxval > 65535)
            throw new DataFormatException($"'{source}': bad netpbm header ({width}x{height}, maxval {maxval})");
        // Checked before allocating: each value needs at least one byte of the file (two for 16-bit binary).
        // (in double: three int factors can overflow a long; the bound keeps the product below the file's length, so int is exact after it)
        int width1 = maxval < 256 ? 1 : 2;
        if ((double)channels * width * height > (magic is "P2" or "P3" ? 1 : width1) * (double)(bytes.Length - pos))
            throw new DataFormatException($"'{source}': a {width}x{height} image needs more data than the file's {bytes.Length} bytes (truncated?)");
        int count = channels * width * height;
        var interleaved = new float[count];
        if (magic is "P2" or "P3")
            for (int i = 0; i < count; i++) interleaved[i] = Number(bytes, ref pos, source) / (float)maxval;
        else
        {
            pos++; // exactly one whitespace byte after maxval
            if (bytes.Length - pos < (long)count * width1)
                throw new DataFormatException($"'{source}': image data is truncated ({bytes.Length - pos} of {count * width1} bytes)");
            for (int i = 0; i < count; i++)
                interleaved[i] = (width1 == 1 ? bytes[pos + i] : bytes[pos + 2 * i] << 8 | bytes[pos + 2 * i + 1]) / (float)maxval;
        }
        // Netpbm interleaves RGB per pixel; we keep planes (NCHW).
        var planes = new float[count];
        for (int p = 0; p < width * height; p++)
            for (int c = 0; c < channels; c++) planes[c * width * height + p] = interleaved[p * channels + c];
        return new HostImage(channels, height, width, planes);
    }

    /// <summary>Writes binary PGM (1 channel) or PPM (3 channels), 8-bit (tests and tools).</summary>
    public static void Write(string path, HostImage image)
    {
        if (image.Channels is not (1 or 3)) throw new ArgumentException("netpbm holds 1 or 3 channels");
        var file = new MemoryStream();
        file.Write(Encoding.ASCII.GetBytes($"{(image.Channels == 1 ? "P5" : "P6")}\n# written by NoiseKD.Native\n{image.Width} {image.Height}\n255\n"));
        int plane = image.Width * image.Height;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < image.Channels; c++)
                file.WriteByte((byte)Math.Clamp(MathF.Round(image.Pixels[c * plane + p] * 255f), 0, 255));
        AtomicFile.WriteAllBytes(path, file.ToArray());
    }

    static string Token(byte[] b, ref int pos, string source)
    {
        while (pos < b.Length)
        {
            if (b[pos] == '#') { while (pos < b.Length && b[pos] != '\n') pos++; }
            else if (char.IsWhiteSpace((char)b[pos])) pos++;
            else break;
        }
        int start = pos;
        while (pos < b.Length && !char.IsWhiteSpace((char)b[pos]) && b[pos] != '#') pos++;
        if (start == pos) throw new DataFormatException($"'{source}': netpbm header or data is truncated");
        return Encoding.ASCII.GetString(b, start, pos - start);
    }

    static int Number(byte[] b, ref int pos, string source)
    {
        string t = Token(b, ref pos, source);
        return int.TryParse(t, out int v) ? v : throw new DataFormatException($"'{source}': '{t}' is not a number in the netpbm header or data");
    }
}
