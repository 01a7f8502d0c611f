namespace NoiseKD.Data;

/// <summary>
/// Finds and loads the datasets the engine knows by name. Fashion-MNIST comes from Debian's
/// dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist) or a data root the user names;
/// the others are looked for under the data root in their published file layouts.
/// </summary>
public static class DatasetCatalog
{
    public const string DebianRoot = "/usr/share/datasets";

    public static readonly string[] Known = ["fashion-mnist", "mnist", "cifar10", "cifar100"];

    public static Normalization NormalizationOf(string name) => name switch
    {
        "fashion-mnist" => Normalization.FashionMnist,
        "mnist" => Normalization.Mnist,
        "cifar10" => Normalization.Cifar10,
        "cifar100" => Normalization.Cifar100,
        _ => throw new DataFormatException($"unknown dataset '{name}'; known: {string.Join(", ", Known)}"),
    };

    /// <summary>Loads the train (<paramref name="train"/> true) or test split.</summary>
    public static Dataset Load(string name, bool train, string? dataRoot = null)
    {
        name = name.ToLowerInvariant();
        return name switch
        {
            "fashion-mnist" or "mnist" => LoadIdx(name, train, dataRoot),
            "cifar10" => LoadCifar(name, train, dataRoot, cifar100: false),
            "cifar100" => LoadCifar(name, train, dataRoot, cifar100: true),
            _ => throw new DataFormatException($"unknown dataset '{name}'; known: {string.Join(", ", Known)}"),
        };
    }

    static Dataset LoadIdx(string name, bool train, string? dataRoot)
    {
        string prefix = train ? "train" : "t10k";
        var dirs = Candidates(name, dataRoot);
        foreach (var dir in dirs)
        {
            string? images = FirstExisting(dir, $"{prefix}-images-idx3-ubyte"), labels = FirstExisting(dir, $"{prefix}-labels-idx1-ubyte");
            if (images is not null && labels is not null) return IdxFormat.ReadDataset(name, images, labels);
        }
        string hint = name == "fashion-mnist"
            ? "install it with 'apt-get install dataset-fashion-mnist' or pass --data-root DIR holding fashion-mnist/"
            : $"pass --data-root DIR holding {name}/ with the IDX files";
        throw new DataFormatException($"{name} {prefix} files not found in {string.Join(" or ", dirs)}; {hint}");
    }

    static Dataset LoadCifar(string name, bool train, string? dataRoot, bool cifar100)
    {
        foreach (var dir in Candidates(name, dataRoot).SelectMany(d => new[] { d, Path.Combine(d, cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin") }))
        {
            string[] files = cifar100
                ? [Path.Combine(dir, train ? "train.bin" : "test.bin")]
                : train ? Enumerable.Range(1, 5).Select(i => Path.Combine(dir, $"data_batch_{i}.bin")).ToArray()
                        : [Path.Combine(dir, "test_batch.bin")];
            if (files.All(File.Exists)) return CifarFormat.Read(name, files, cifar100);
        }
        throw new DataFormatException($"{name} binary files not found under {string.Join(" or ", Candidates(name, dataRoot))}; " +
                                      $"pass --data-root DIR holding {name}/ with the {(cifar100 ? "train.bin/test.bin" : "data_batch_N.bin/test_batch.bin")} files");
    }

    static List<string> Candidates(string name, string? dataRoot)
    {
        var dirs = new List<string>();
        if (dataRoot is not null)
        {
            dirs.Add(Path.Combine(dataRoot, name));
            dirs.Add(dataRoot);
        }
        dirs.Add(Path.Combine(DebianRoot, name));
        return dirs;
    }

    static string? FirstExisting(string dir, string stem) =>
        new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") }.Select(f => Path.Combine(dir, f)).FirstOrDefault(File.Exists);
}
