using System.Buffers.Binary;
using System.IO.Compression;
using NoiseKD.IO;

namespace NoiseKD.Data;

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST (LeCun et al.): a big-endian magic number whose third
/// byte is the element type (0x08 = unsigned byte) and fourth the rank, one big-endian int32 per
/// dimension, then the data. Files may be gzipped (detected by the gzip magic, not the name).
/// </summary>
public static class IdxFormat
{
    public static (byte[] Data, int[] Shape) Read(string path)
    {
        byte[] raw;
        try { raw = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"cannot read IDX file '{path}': {e.Message}");
        }
        if (raw.Length >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) raw = Gunzip(raw, path);
        if (raw.Length < 4 || raw[0] != 0 || raw[1] != 0)
            throw new DataFormatException($"'{path}' is not an IDX file (bad magic number)");
        if (raw[2] != 0x08) throw new DataFormatException($"'{path}': IDX element type 0x{raw[2]:x2} is not unsigned byte (0x08)");
        int rank = raw[3];
        if (rank < 1 || raw.Length < 4 + 4 * rank) throw new DataFormatException($"'{path}': IDX header is truncated");
        var shape = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            shape[i] = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4 + 4 * i));
            if (shape[i] < 0) throw new DataFormatException($"'{path}': negative IDX dimension");
            if (shape[i] > 0 && count > (raw.Length - 4 - 4 * rank) / shape[i]) // checked before it can overflow
                throw new DataFormatException($"'{path}': IDX header promises more data than the file's {raw.Length} bytes (truncated or corrupt)");
            count *= shape[i];
        }
        int offset = 4 + 4 * rank;
        if (raw.Length - offset != count)
            throw new DataFormatException($"'{path}': IDX header promises {count} bytes of data, file has {raw.Length - offset} (truncated or corrupt)");
        return (raw[offset..], shape);
    }

    /// <summary>Reads an image file [N, H, W] and its label file [N] into a dataset.</summary>
    public static Dataset ReadDataset(string name, string imagesPath, string labelsPath, int classes = 10)
    {
        var (pixels, imageShape) = Read(imagesPath);
        var (labels, labelShape) = Read(labelsPath);
        if (imageShape.Length != 3) throw new DataFormatException($"'{imagesPath}': expected images [N, H, W], got rank {imageShape.Length}");
        if (labelShape.Length != 1) throw new DataFormatException($"'{labelsPath}': expected labels [N], got rank {labelShape.Length}");
        if (labelShape[0] != imageShape[0])
            throw new DataFormatException($"'{imagesPath}' holds {imageShape[0]} images but '{labelsPath}' holds {labelShape[0]} labels");
        return new Dataset(name, pixels, labels.Select(b => (int)b).ToArray(), 1, imageShape[1], imageShape[2], classes);
    }

    /// <summary>Writes an IDX file of unsigned bytes (gzipped when the name ends in .gz); used by tests and tools.</summary>
    public static void Write(string path, ReadOnlySpan<byte> data, params int[] shape)
    {
        var file = new MemoryStream();
        using (Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Fastest) : file)
            WriteTo(stream, data, shape);
        AtomicFile.WriteAllBytes(path, file.ToArray());
    }

    static void WriteTo(Stream stream, ReadOnlySpan<byte> data, int[] shape)
    {
        Span<byte> header = stackalloc byte[4];
        header[0] = 0; header[1] = 0; header[2] = 0x08; header[3] = (byte)shape.Length;
        stream.Write(header);
        foreach (int d in shape)
        {
            BinaryPrimitives.WriteInt32BigEndian(header, d);
            stream.Write(header);
        }
        stream.Write(data);
    }

    static byte[] Gunzip(byte[] compressed, string path)
    {
        try
        {
            using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var output = new MemoryStream();
            input.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"'{path}' is a damaged gzip file: {e.Message}");
        }
    }
}
