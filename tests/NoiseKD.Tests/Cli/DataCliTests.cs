using NoiseKD.Data;
using NoiseKD.Models;
using Xunit;

namespace NoiseKD.Tests.Cli;

/// <summary>`noisekd data list`, and a study refusing a teacher of another dataset.</summary>
[Collection(nameof(ConsoleCollection))]
public class DataCliTests
{
    [Fact]
    public void DataListShowsWhereEachDatasetIsAndHowToGetTheOthers()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("cifar100"));
        var one = new Dataset("cifar100", new byte[3072], [7], 3, 32, 32, 100);
        CifarFormat.Write(dir.File("cifar100/train.bin"), one, cifar100: true);
        CifarFormat.Write(dir.File("cifar100/test.bin"), one, cifar100: true);

        var (code, output, _) = CliRunner.Run("data", "list", "--data-root", dir.Path);

        Assert.Equal(0, code);
        Assert.Contains($"data root: {dir.Path}", output);
        Assert.Matches($@"cifar100\s+present\s+{System.Text.RegularExpressions.Regex.Escape(dir.File("cifar100"))}", output);
        // CIFAR-10 may be installed in this machine's per-user root; if not, the line says how to get it.
        Assert.True(output.Contains("cifar10        absent    get it: noisekd data fetch cifar10") || output.Contains("cifar10        present"), output);
    }

    [Fact]
    public void AStudyRefusesATeacherOfAnotherDataset()
    {
        using var dir = new TempDir();
        var spec = new ModelSpec("lenet5-half", 1f, 3, 10, 32);
        ModelFile.Save(dir.File("t.safetensors"), spec.Create(), spec, Normalization.Cifar10.Mean, Normalization.Cifar10.Std,
                       new Dictionary<string, string> { ["dataset"] = "cifar10" });

        var (code, _, error) = CliRunner.Run("study", "noise-kd", "--quick", "--teacher", dir.File("t.safetensors"), "--dataset", "fashion-mnist", "--out", dir.File("s"));

        Assert.Equal(2, code);
        Assert.Contains("was trained on cifar10, not fashion-mnist", error);
    }
}
