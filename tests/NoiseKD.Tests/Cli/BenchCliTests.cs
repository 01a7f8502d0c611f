using System.Text.Json;
using NoiseKD.Backends.Cpu;
using Xunit;

namespace NoiseKD.Tests.Cli;

/// <summary>`bench` at batch 1 and its report of the CPU vector path; NOISEKD_CPU_VECTOR as a user error.</summary>
[Collection(nameof(ConsoleCollection))]
public class BenchCliTests
{
    [Fact]
    public void InferenceRunsAtBatchOneAndNamesTheVectorPath()
    {
        var (code, output, error) = CliRunner.Run("bench", "--arch", "resnet18", "--width", "0.125", "--mode", "infer",
                                                  "--batch-size", "1", "--steps", "2", "--warmup", "1");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(1, json.RootElement.GetProperty("batch_size").GetInt32());
        Assert.True(json.RootElement.GetProperty("ms_per_step").GetDouble() > 0);
        Assert.Equal(CpuVector.Path, json.RootElement.GetProperty("cpu_vector").GetString());
    }

    [Fact]
    public void ProfileVariableReportsEveryCommandsOps()
    {
        string? saved = Environment.GetEnvironmentVariable("NOISEKD_PROFILE");
        try
        {
            Environment.SetEnvironmentVariable("NOISEKD_PROFILE", "1");
            var (code, _, error) = CliRunner.Run("bench", "--arch", "resnet18", "--width", "0.125", "--batch-size", "2", "--steps", "2", "--warmup", "1");
            Assert.True(code == 0, error);
            Assert.Contains("NOISEKD_PROFILE: ", error);
            // Warm-up and timed steps, both counted: 3 training steps, each with one forward of the stem convolution and its backward.
            var conv = error.Split('\n').Single(l => l.EndsWith("forward Conv2d", StringComparison.Ordinal));
            Assert.True(long.Parse(conv.Split("calls")[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]) >= 3 * 20, conv);
            Assert.Contains(error.Split('\n'), l => l.EndsWith("backward Conv2d", StringComparison.Ordinal));
            Environment.SetEnvironmentVariable("NOISEKD_PROFILE", null);
            (code, _, error) = CliRunner.Run("bench", "--arch", "resnet18", "--width", "0.125", "--batch-size", "2", "--steps", "1", "--warmup", "0");
            Assert.True(code == 0, error);
            Assert.DoesNotContain("NOISEKD_PROFILE", error);
        }
        finally { Environment.SetEnvironmentVariable("NOISEKD_PROFILE", saved); NoiseKD.Autograd.OpProfiler.Enabled = false; }
    }

    [Fact]
    public void TrainingStillNeedsTwoImages()
    {
        var (code, _, error) = CliRunner.Run("bench", "--arch", "resnet18", "--width", "0.125", "--batch-size", "1");
        Assert.Equal(2, code);
        Assert.Contains("--batch-size must be >= 2 with --mode train", error);
    }

    [Fact]
    public void UnknownVectorPathIsAUserError()
    {
        _ = CpuVector.Wide; // the process's choice is made (and kept) before the variable changes
        string? saved = Environment.GetEnvironmentVariable(CpuVector.Variable);
        Environment.SetEnvironmentVariable(CpuVector.Variable, "sse2");
        try
        {
            var (code, _, error) = CliRunner.Run("bench", "--gemm", "64", "--steps", "1");
            Assert.Equal(2, code);
            Assert.Contains("NOISEKD_CPU_VECTOR='sse2' is not a vector path", error);
            Assert.Single(error.Trim().Split('\n'));
        }
        finally
        {
            Environment.SetEnvironmentVariable(CpuVector.Variable, saved);
        }
    }
}
