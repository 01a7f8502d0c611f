using System.Text.Json;
using Xunit;

namespace NoiseKD.Tests.Cli;

/// <summary>The verbs end to end on a tiny synthetic dataset, and every user error ends in one sentence and exit code 2.</summary>
[Collection(nameof(ConsoleCollection))]
public class CommandLineTests
{
    public static TheoryData<string[], string> UserErrors => new()
    {
        { ["train", "--model", "resnet19", "--out", "/tmp/x"], "unknown architecture 'resnet19'" },
        { ["train", "--model", "resnet18", "--out", "/tmp/x", "--optimizer", "rmsprop"], "optimizer 'rmsprop'" },
        { ["train", "--model", "resnet18", "--out", "/tmp/x", "--schedule", "sawtooth"], "schedule 'sawtooth'" },
        { ["train", "--model", "resnet18", "--out", "/tmp/x", "--device", "tpu"], "--device 'tpu'" },
        { ["eval", "--model", "/nonexistent/model.safetensors"], "does not exist" },
        { ["distill", "--teacher", "/nonexistent.safetensors", "--student", "resnet18", "--out", "/tmp/x"], "does not exist" },
        { ["distill", "--teacher", "/x", "--student", "resnet18", "--out", "/tmp/x", "--teacher-bn", "partial:150"], "partial:P" },
        { ["distill", "--teacher", "/x", "--student", "resnet18", "--out", "/tmp/x", "--loss", "hinge"], "--loss 'hinge'" },
        { ["study", "everything"], "unknown study 'everything'" },
        { ["bench", "--model", "resnet18", "--input", "3x32"], "--input '3x32'" },
    };

    [Theory]
    [MemberData(nameof(UserErrors))]
    public void UserErrorsAreOneSentenceAndExitTwo(string[] args, string expected)
    {
        var (code, _, error) = CliRunner.Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("noisekd: error: ", error);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void UnknownOptionsAndVerbsExitTwo()
    {
        Assert.Equal(2, CliRunner.Run("train", "--model", "resnet18", "--out", "/tmp/x", "--no-such-option").Code);
        Assert.Equal(2, CliRunner.Run("frobnicate").Code);
        Assert.Equal(0, CliRunner.Run("--help").Code);
    }

    [Fact]
    public void TrainEvalAndDistillFromTheCommandLine()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 256, 100);
        string[] common = ["--data-root", dir.Path];
        var (code, output, error) = CliRunner.Run(["train", "--model", "resnet18", "--width", "0.0625", "--epochs", "1", "--batch-size", "32",
                                                   "--lr", "0.05", "--out", dir.File("teacher"), .. common]);
        Assert.True(code == 0, error);
        Assert.Contains("test accuracy", output);

        (code, output, error) = CliRunner.Run(["eval", "--model", dir.File("teacher/model.safetensors"), "--json", "--batch-size", "50", .. common]);
        Assert.True(code == 0, error);
        using (var json = JsonDocument.Parse(output.Trim()))
        {
            double accuracy = json.RootElement.GetProperty("accuracy").GetDouble();
            Assert.InRange(accuracy, 0.0, 1.0); // a fraction, not a percentage
            Assert.Equal(100, json.RootElement.GetProperty("samples").GetInt32());
        }

        (code, output, error) = CliRunner.Run(["distill", "--teacher", dir.File("teacher/model.safetensors"), "--student", "resnet18", "--student-width", "0.0625",
                                               "--epochs", "1", "--steps", "3", "--batch-size", "16", "--eval-batch-size", "50", "--adjust-samples", "32",
                                               "--out", dir.File("student"), .. common]);
        Assert.True(code == 0, error);
        Assert.Contains("student: CS", output);
        Assert.True(File.Exists(dir.File("student/student.safetensors")));

        // Running again into the same folder without --resume must not destroy the run.
        (code, _, error) = CliRunner.Run(["distill", "--teacher", dir.File("teacher/model.safetensors"), "--student", "resnet18", "--student-width", "0.0625",
                                          "--epochs", "1", "--steps", "3", "--out", dir.File("student"), .. common]);
        Assert.Equal(2, code);
        Assert.Contains("--resume", error);
    }
}
