using NoiseKD.IO;
using NoiseKD.Serialization;
using NoiseKD.Tests.Cli;
using Xunit;

namespace NoiseKD.Tests.Reliability;

/// <summary>
/// The machine refusing a write (full disk, read-only folder, permission, a path that is a file, a vanished
/// folder) ends in one sentence naming the path and the cause, exit code 3, no temporary file, and the
/// previous file intact.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class StorageFaultTests
{
    static string[] Train(string dataRoot, string outDir, int epochs) => TrainArgs.For(dataRoot, outDir, epochs);

    static void AssertEnvironmentError(int code, string error, params string[] expected)
    {
        Assert.True(code == 3, $"exit {code}: {error}");
        Assert.StartsWith("noisekd: error: ", error);
        Assert.Single(error.Trim().Split('\n'));
        foreach (string e in expected) Assert.Contains(e, error);
    }

    static void AssertNoTemporaryFiles(string dir) =>
        Assert.Empty(Directory.EnumerateFiles(dir, "*.tmp", SearchOption.AllDirectories));

    /// <summary>
    /// The same epoch-1 checkpoint, written by a 1-epoch run and by a longer run: the tensors byte for byte, the
    /// metadata equal apart from the fingerprint, which records each run's own --epochs.
    /// </summary>
    static void AssertSameCheckpoint(string oneEpochRun, string actual, int runEpochs)
    {
        static byte[] Tensors(string path) { byte[] file = File.ReadAllBytes(path); return file[(8 + (int)BitConverter.ToInt64(file, 0))..]; }
        Assert.Equal(Tensors(oneEpochRun), Tensors(actual));
        var expected = Safetensors.Read(oneEpochRun).Metadata;
        var got = Safetensors.Read(actual).Metadata;
        Assert.Equal(expected.Where(kv => kv.Key != "fingerprint").OrderBy(kv => kv.Key), got.Where(kv => kv.Key != "fingerprint").OrderBy(kv => kv.Key));
        Assert.Equal(expected["fingerprint"].Replace("\"--epochs\":\"1\"", $"\"--epochs\":\"{runEpochs}\""), got["fingerprint"]);
    }

    [TmpfsFact]
    public void AFullDiskKeepsTheLastGoodCheckpointAndEndsInOneSentence()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 256, 100);
        var (code, _, error) = CliRunner.Run(Train(dir.Path, dir.File("reference"), 1));
        Assert.True(code == 0, error);
        string epochOne = dir.File("reference/checkpoint.safetensors");

        // Room for one checkpoint and a half: epoch 1's fits, epoch 2's temporary copy next to it does not.
        using var disk = new TmpfsMount(new FileInfo(epochOne).Length * 3L / 2);
        string run = Path.Combine(disk.Path, "run");
        (code, _, error) = CliRunner.Run(Train(dir.Path, run, 3));
        AssertEnvironmentError(code, error, Path.Combine(run, "checkpoint.safetensors"), "no space left on device", "previous file is unchanged");
        AssertNoTemporaryFiles(disk.Path);
        AssertSameCheckpoint(epochOne, Path.Combine(run, "checkpoint.safetensors"), runEpochs: 3);
        // Epoch 2's row went in before its checkpoint failed; a resume drops rows after the checkpoint's epoch.
        var log = new NoiseKD.Training.MetricsLog(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal([1, 2], log.ReadAll().Select(r => r["epoch"].GetInt32()));
        log.TruncateAfter(1);
        Assert.Equal([1], log.ReadAll().Select(r => r["epoch"].GetInt32()));
    }

    [TmpfsFact]
    public void AReadOnlyFolderEndsInOneSentence()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 20);
        using var disk = new TmpfsMount(1 << 20);
        disk.RemountReadOnly();
        var (code, _, error) = CliRunner.Run(Train(dir.Path, Path.Combine(disk.Path, "run"), 1));
        AssertEnvironmentError(code, error, Path.Combine(disk.Path, "run"), "read-only file system");
    }

    [Fact]
    public void AnOutFolderThatIsAFileEndsInOneSentence()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 20);
        File.WriteAllText(dir.File("taken"), "not a folder");
        var (code, _, error) = CliRunner.Run(Train(dir.Path, dir.File("taken"), 1));
        AssertEnvironmentError(code, error, dir.File("taken"), "it is a file");
        Assert.Equal("not a folder", File.ReadAllText(dir.File("taken")));

        (code, _, error) = CliRunner.Run(Train(dir.Path, dir.File("taken/run"), 1));
        AssertEnvironmentError(code, error, dir.File("taken/run"));
    }

    [PermissionBitsFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void PermissionDeniedEndsInOneSentence()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 20);
        Directory.CreateDirectory(dir.File("locked"));
        File.SetUnixFileMode(dir.File("locked"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var (code, _, error) = CliRunner.Run(Train(dir.Path, dir.File("locked"), 1));
        AssertEnvironmentError(code, error, dir.File("locked"), "permission denied");
    }

    [Theory]
    [InlineData(28, "no space left on device")]
    [InlineData(30, "read-only file system")]
    [InlineData(122, "disk quota exceeded")]
    public void AnInjectedWriteFailureKeepsThePreviousFile(int errno, string cause)
    {
        using var dir = new TempDir();
        string path = dir.File("model.safetensors");
        Safetensors.Write(path, [new NamedArray("w", [2], [1f, 2f])]);
        byte[] before = File.ReadAllBytes(path);
        var e = Assert.Throws<StorageException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[1000]);
            throw new IOException("injected", errno); // .NET on Unix keeps errno in HResult
        }));
        Assert.Equal($"cannot write '{path}': {cause}; the previous file is unchanged", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        AssertNoTemporaryFiles(dir.Path);
    }

    [Fact]
    public void AFolderRemovedWhileWritingIsNamed()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var e = Assert.Throws<StorageException>(() => AtomicFile.Write(Path.Combine(run, "summary.json"), s =>
        {
            s.Write("{}"u8);
            Directory.Delete(run, recursive: true);
        }));
        Assert.Contains("the folder was removed while writing", e.Message);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void AppendedLinesAccumulateAndAFailedAppendLeavesTheFileWhole()
    {
        using var dir = new TempDir();
        string log = dir.File("metrics.jsonl");
        AtomicFile.AppendLine(log, "{\"epoch\":1}");
        AtomicFile.AppendLine(log, "{\"epoch\":2}");
        Assert.Equal(["{\"epoch\":1}", "{\"epoch\":2}"], File.ReadAllLines(log));
        Assert.Throws<StorageException>(() => AtomicFile.Write(log, _ => throw new IOException("injected", 28)));
        Assert.Equal(["{\"epoch\":1}", "{\"epoch\":2}"], File.ReadAllLines(log));
    }
}
