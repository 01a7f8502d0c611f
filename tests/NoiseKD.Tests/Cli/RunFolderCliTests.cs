using System.Text.Json;
using NoiseKD.Data;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Cli;

/// <summary>
/// What a run folder holds and how a second invocation treats it: config.json at the start, summary.json at the
/// end, equal options reused, other options refused with the differences named, nothing left by a run that never started.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class RunFolderCliTests
{
    /// <summary>A small `train` command line; options in <paramref name="more"/> replace the defaults of the same name.</summary>
    static string[] Train(string dataRoot, string outDir, params string[] more)
    {
        string[] defaults = ["--arch", "lenet5-half", "--epochs", "1", "--batch-size", "32", "--lr", "0.05"];
        var kept = defaults.Chunk(2).Where(pair => !more.Contains(pair[0])).SelectMany(pair => pair);
        return ["train", .. kept, "--data-root", dataRoot, "--out", outDir, .. more];
    }

    [Fact]
    public void TrainWritesConfigAndSummaryAndAFinishedRunIsNotResumed()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 128, 64);
        string run = dir.File("run");
        var (code, _, error) = CliRunner.Run(Train(dir.Path, run, "--seed", "3"));
        Assert.True(code == 0, error);

        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))))
        {
            var root = config.RootElement;
            Assert.Equal("train", root.GetProperty("verb").GetString());
            Assert.StartsWith("noisekd train --arch lenet5-half", root.GetProperty("command_line").GetString());
            Assert.Equal(RunConfig.Version, root.GetProperty("version").GetString());
            Assert.Equal(3UL, root.GetProperty("seed").GetUInt64());
            Assert.Equal("cpu", root.GetProperty("device").GetString());
            Assert.True(root.GetProperty("threads").GetInt32() > 0);
            Assert.True(DateTime.TryParse(root.GetProperty("started").GetString(), out _));
            var options = root.GetProperty("options");
            Assert.Equal("lenet5-half", options.GetProperty("--arch").GetString());
            Assert.Equal("1", options.GetProperty("--epochs").GetString());
            Assert.Equal("0.05", options.GetProperty("--lr").GetString());
            Assert.Equal("crop:2+flip", options.GetProperty("--augment").GetString()); // Fashion-MNIST's default
            var files = root.GetProperty("dataset_files").EnumerateArray().Select(f => Path.GetFileName(f.GetProperty("path").GetString())).ToList();
            Assert.Contains("train-images-idx3-ubyte.gz", files);
        }

        // summary.json holds the accuracy the model file gives when evaluated independently.
        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))))
        {
            var (model, file) = ModelFile.Load(Path.Combine(run, "model.safetensors"));
            double expected = Evaluator.Evaluate(model, DatasetCatalog.Load("fashion-mnist", false, dir.Path), new Normalization(file.NormMean, file.NormStd), 50).Accuracy;
            Assert.Equal(expected, summary.RootElement.GetProperty("accuracy").GetDouble(), 6);
            Assert.Equal(64, summary.RootElement.GetProperty("samples").GetInt32());
        }

        // --resume on the finished run: nothing to do, said so, the model file untouched (it once became test_accuracy NaN).
        byte[] before = File.ReadAllBytes(Path.Combine(run, "model.safetensors"));
        var writeTime = File.GetLastWriteTimeUtc(Path.Combine(run, "model.safetensors"));
        (code, var output, error) = CliRunner.Run(Train(dir.Path, run, "--seed", "3", "--resume"));
        Assert.True(code == 0, error);
        Assert.Contains("nothing to do", output);
        Assert.DoesNotContain("NaN", output);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run, "model.safetensors")));
        Assert.Equal(writeTime, File.GetLastWriteTimeUtc(Path.Combine(run, "model.safetensors")));

        // --resume with other options: refused, each difference in the command line's words, one line.
        (code, _, error) = CliRunner.Run(Train(dir.Path, run, "--seed", "4", "--resume", "--epochs", "2"));
        Assert.Equal(2, code);
        Assert.Contains("--epochs: 1 in the folder, 2 asked; --seed: 3 in the folder, 4 asked", error);
        Assert.DoesNotContain("{", error); // never a printed record
        Assert.Single(error.Trim().Split('\n'));
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run, "model.safetensors")));
    }

    [Fact]
    public void AnEpochWithoutAFullBatchIsOneSentenceAndLeavesNothing()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 100, 32);
        var (code, _, error) = CliRunner.Run(Train(dir.Path, dir.File("run"), "--batch-size", "128"));
        Assert.Equal(2, code);
        Assert.Contains("100 training images make no full batch of 128", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.File("run"))); // no checkpoint to block the retry, no empty folder
        (code, _, error) = CliRunner.Run(Train(dir.Path, dir.File("run"), "--batch-size", "32"));
        Assert.True(code == 0, error);
    }

    [Fact]
    public void AMissingDataRootIsAnError()
    {
        using var dir = new TempDir();
        var (code, _, error) = CliRunner.Run(Train(dir.File("no-such-folder"), dir.File("run")));
        Assert.Equal(2, code);
        Assert.Contains($"--data-root '{dir.File("no-such-folder")}' does not exist", error);
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [Fact]
    public void ARunThatFailsBeforeItsFirstEpochLeavesNoFolder()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 32);
        var (code, _, error) = CliRunner.Run(Train(dir.Path, dir.File("teacher")));
        Assert.True(code == 0, error);
        // The transfer set is read after the folder is locked and config.json written: both go again with the folder.
        (code, _, error) = CliRunner.Run("distill", "--teacher", dir.File("teacher/model.safetensors"), "--student-arch", "lenet5-half", "--transfer", "no-such-transfer",
                                         "--epochs", "1", "--steps", "1", "--batch-size", "8", "--data-root", dir.Path, "--out", dir.File("a/b/student"));
        Assert.Equal(2, code);
        Assert.Contains("no-such-transfer", error);
        Assert.False(Directory.Exists(dir.File("a/b/student")));
    }

    [Fact]
    public void OldSpellingsStillWorkWithANotice()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 32);
        var (code, _, error) = CliRunner.Run("train", "--model", "lenet5-half", "--epochs", "1", "--batch-size", "32", "--data-root", dir.Path, "--out", dir.File("t"));
        Assert.True(code == 0, error);
        Assert.Equal("noisekd: --model is deprecated here; use --arch", error.Trim());
        (code, var output, error) = CliRunner.Run("eval", "--model", dir.File("t/model.safetensors"), "--limit", "10", "--json", "--data-root", dir.Path);
        Assert.True(code == 0, error);
        Assert.Contains("--limit is deprecated here; use --test-limit", error);
        Assert.Equal(10, JsonDocument.Parse(output).RootElement.GetProperty("samples").GetInt32());
        (code, _, error) = CliRunner.Run("train", "--model", "lenet5-half", "--arch", "lenet5", "--data-root", dir.Path, "--out", dir.File("u"));
        Assert.Equal(2, code);
        Assert.Contains("--model is the old spelling of --arch; give only --arch", error);
        // distill's student architecture: --student-arch, --student still accepted; neither is an error.
        (code, _, error) = CliRunner.Run("distill", "--teacher", dir.File("t/model.safetensors"), "--student", "lenet5-half", "--epochs", "1", "--steps", "1",
                                         "--batch-size", "8", "--test-limit", "16", "--adjust-samples", "0", "--data-root", dir.Path, "--out", dir.File("d"));
        Assert.True(code == 0, error);
        Assert.Contains("noisekd: --student is deprecated here; use --student-arch", error);
        (code, _, error) = CliRunner.Run("distill", "--teacher", dir.File("t/model.safetensors"), "--out", dir.File("e"), "--data-root", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("--student-arch is required", error);
    }

    [Fact]
    public void MnistDigitsAreNotFlippedByDefault()
    {
        Assert.Equal(new Augmentation(2, false), Augmentation.Standard("mnist"));
        Assert.Equal(new Augmentation(2, true), Augmentation.Standard("fashion-mnist"));
        Assert.Equal(new Augmentation(4, true), Augmentation.Standard("cifar10"));
    }

    [Fact]
    public void LogsShowAHeaderAndStepLinesAndQuietKeepsOnlyTheResult()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 32);
        var (code, output, error) = CliRunner.Run(Train(dir.Path, dir.File("a"), "--log-interval", "1"));
        Assert.True(code == 0, error);
        Assert.Contains("train lenet5-half x1 (", output);
        Assert.Contains("parameters) on fashion-mnist (64 training, 32 test images): 1 epochs of 2 steps of 32; device cpu", output);
        Assert.Contains("epoch 1/1  step 1/2  loss ", output); // the last step is the epoch line's
        Assert.DoesNotContain("step 2/2", output);
        Assert.Contains("train_loss", output);

        (code, output, error) = CliRunner.Run(Train(dir.Path, dir.File("b"), "--quiet"));
        Assert.True(code == 0, error);
        Assert.DoesNotContain("train_loss", output);
        Assert.DoesNotContain("step 1/2", output);
        Assert.Contains("test accuracy", output);

        (code, _, error) = CliRunner.Run(Train(dir.Path, dir.File("c"), "--log-interval", "0"));
        Assert.Equal(2, code);
        Assert.Contains("--log-interval 0 must be a positive number of steps", error);
    }

    [Fact]
    public void PreDfkdPrintsTheStartUpHeaderAndWritesConfig()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 32);
        var (code, _, error) = CliRunner.Run(Train(dir.Path, dir.File("teacher")));
        Assert.True(code == 0, error);
        (code, var output, error) = CliRunner.Run("distill", "--method", "pre-dfkd", "--teacher", dir.File("teacher/model.safetensors"), "--student-arch", "lenet5-half",
                                                  "--epochs", "1", "--steps", "1", "--batch-size", "8", "--data-root", dir.Path, "--out", dir.File("p"));
        Assert.True(code == 0, error);
        Assert.Contains("distill into lenet5-half x1 (", output);
        Assert.Contains("(32 test images): 1 epochs of 1 generator steps; device cpu, ", output);
        using var config = JsonDocument.Parse(File.ReadAllText(dir.File("p/config.json")));
        Assert.Equal("lenet5-half", config.RootElement.GetProperty("options").GetProperty("--student-arch").GetString());
    }

    [Fact]
    public void DistillFromABnLessTeacherWarnsAndWritesConfigAndAccuracyKeys()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 32);
        var (code, _, error) = CliRunner.Run(Train(dir.Path, dir.File("teacher")));
        Assert.True(code == 0, error);
        (code, var output, error) = CliRunner.Run("distill", "--teacher", dir.File("teacher/model.safetensors"), "--student-arch", "mlp", "--student-width", "0.25",
                                                  "--epochs", "1", "--steps", "2", "--batch-size", "8", "--adjust-samples", "16", "--data-root", dir.Path, "--out", dir.File("s"));
        Assert.True(code == 0, error);
        Assert.Contains("warning: the teacher lenet5-half has no BatchNorm layer", output);
        Assert.Contains("distill into mlp x0.25 (", output); // the start-up header
        Assert.Contains("1 epochs of 2 steps of 8; device cpu, ", output);
        using var summary = JsonDocument.Parse(File.ReadAllText(dir.File("s/summary.json")));
        foreach (var (key, old) in new[] { ("accuracy_cs", "acc_cs"), ("accuracy_rs", "acc_rs"), ("accuracy_rs_adjusted", "acc_rs_adjusted") })
            Assert.Equal(summary.RootElement.GetProperty(old).GetDouble(), summary.RootElement.GetProperty(key).GetDouble());
        using var config = JsonDocument.Parse(File.ReadAllText(dir.File("s/config.json")));
        Assert.Equal("distill", config.RootElement.GetProperty("verb").GetString());
        Assert.Equal("2", config.RootElement.GetProperty("options").GetProperty("--steps").GetString());
        Assert.Equal(Path.GetFullPath(dir.File("teacher/model.safetensors")), config.RootElement.GetProperty("options").GetProperty("--teacher").GetString());

        // --resume on the finished distillation: nothing to do, the student file untouched.
        byte[] student = File.ReadAllBytes(dir.File("s/student.safetensors"));
        (code, output, error) = CliRunner.Run("distill", "--teacher", dir.File("teacher/model.safetensors"), "--student-arch", "mlp", "--student-width", "0.25",
                                              "--epochs", "1", "--steps", "2", "--batch-size", "8", "--adjust-samples", "16", "--data-root", dir.Path, "--out", dir.File("s"), "--resume");
        Assert.True(code == 0, error);
        Assert.Contains("has finished all its epochs; nothing to do", output);
        Assert.Equal(student, File.ReadAllBytes(dir.File("s/student.safetensors")));
    }

    [Fact]
    public void QuickstartSmokeIsLabelledAndUsesTinyBudgets()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 128, 64);
        var (code, output, error) = CliRunner.Run("quickstart", "--smoke", "--out", dir.File("qs"), "--teacher-arch", "lenet5-half", "--student-arch", "lenet5-half",
                                                  "--batch-size", "8", "--data-root", dir.Path);
        Assert.True(code == 0, error);
        Assert.Contains("SMOKE RUN (--smoke)", output);
        using var summary = JsonDocument.Parse(File.ReadAllText(dir.File("qs/summary.json")));
        Assert.True(summary.RootElement.GetProperty("smoke").GetBoolean());
        Assert.Equal(30 * 8, summary.RootElement.GetProperty("distill_images_cs").GetInt32()); // 1 epoch x 30 batches
        Assert.Contains("SMOKE RUN", File.ReadAllText(dir.File("qs/REPORT.md")));
        using var teacher = JsonDocument.Parse(File.ReadAllText(dir.File("qs/teacher/config.json")));
        Assert.Equal("6000", teacher.RootElement.GetProperty("options").GetProperty("--train-limit").GetString());
        Assert.Equal("1", teacher.RootElement.GetProperty("options").GetProperty("--epochs").GetString());
    }
}
