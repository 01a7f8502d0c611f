using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace NoiseKD.Tests.Data;

/// <summary>
/// A PNG encoder written for the tests alone (no image library), so the decoder is checked against the
/// specification rather than against itself: 8-bit RGB, not interlaced, one chosen filter per row
/// (PNG spec section 9: None, Sub, Up, Average, Paeth), zlib-compressed IDAT, CRC-32 per chunk.
/// </summary>
public static class TinyPng
{
    public enum Filter : byte { None = 0, Sub = 1, Up = 2, Average = 3, Paeth = 4 }

    /// <summary>PNG bytes of an RGB image given as interleaved rows; row r uses filters[r % filters.Length].</summary>
    public static byte[] EncodeRgb(int width, int height, byte[] rgb, params Filter[] filters)
    {
        const int bpp = 3;
        int stride = width * bpp;
        var raw = new MemoryStream();
        var previous = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            var row = rgb.AsSpan(y * stride, stride);
            var filter = filters[y % filters.Length];
            raw.WriteByte((byte)filter);
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bpp ? row[i - bpp] : 0, b = previous[i], c = i >= bpp ? previous[i - bpp] : 0;
                int predictor = filter switch
                {
                    Filter.None => 0,
                    Filter.Sub => a,
                    Filter.Up => b,
                    Filter.Average => (a + b) / 2,
                    _ => Paeth(a, b, c),
                };
                raw.WriteByte((byte)(row[i] - predictor));
            }
            row.CopyTo(previous);
        }
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) raw.WriteTo(zlib);

        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: truecolour (RGB)
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typeAndData);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        png.Write(crc);
    }

    /// <summary>CRC-32 as PNG and zlib define it (polynomial 0xEDB88320, reflected, initial and final XOR 0xFFFFFFFF).</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
