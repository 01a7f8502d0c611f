using NoiseKD.IO;

namespace NoiseKD.Data;

/// <summary>
/// The CIFAR binary format (Krizhevsky 2009): records of a label byte (CIFAR-100: coarse then fine
/// label bytes) followed by 3072 pixel bytes, 1024 per channel in R, G, B order, row-major 32x32.
/// </summary>
public static class CifarFormat
{
    public const int Side = 32, PixelsPerImage = 3 * Side * Side;

    public static Dataset Read(string name, IReadOnlyList<string> files, bool cifar100)
    {
        int labelBytes = cifar100 ? 2 : 1, record = labelBytes + PixelsPerImage;
        var pixels = new List<byte[]>();
        var labels = new List<int>();
        foreach (var path in files)
        {
            byte[] raw;
            try { raw = File.ReadAllBytes(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DataFormatException($"cannot read CIFAR file '{path}': {e.Message}");
            }
            if (raw.Length == 0 || raw.Length % record != 0)
                throw new DataFormatException($"'{path}' is {raw.Length} bytes, not a whole number of {record}-byte CIFAR{(cifar100 ? "-100" : "-10")} records (truncated?)");
            for (int offset = 0; offset < raw.Length; offset += record)
            {
                labels.Add(raw[offset + labelBytes - 1]); // CIFAR-100: the fine label
                pixels.Add(raw[(offset + labelBytes)..(offset + record)]);
            }
        }
        var all = new byte[pixels.Count * PixelsPerImage];
        for (int i = 0; i < pixels.Count; i++) pixels[i].CopyTo(all, i * PixelsPerImage);
        return new Dataset(name, all, labels.ToArray(), 3, Side, Side, cifar100 ? 100 : 10);
    }

    /// <summary>Writes records in the same format (tests write small files with it).</summary>
    public static void Write(string path, Dataset data, bool cifar100)
    {
        if (data.Channels != 3 || data.Height != Side || data.Width != Side) throw new ArgumentException("CIFAR records hold 3x32x32 images");
        var file = new MemoryStream();
        for (int i = 0; i < data.Count; i++)
        {
            if (cifar100) file.WriteByte(0);
            file.WriteByte((byte)data.Labels[i]);
            file.Write(data.Image(i));
        }
        AtomicFile.WriteAllBytes(path, file.ToArray());
    }
}
