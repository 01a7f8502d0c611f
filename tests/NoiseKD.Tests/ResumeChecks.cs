using NoiseKD.Serialization;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests;

/// <summary>Stands in for a crash: throws once the given epoch's checkpoint is on disk.</summary>
public sealed class CrashAfterEpoch(int epoch) : IProgress
{
    public void EpochStarted(int e, int epochs, int batches) { }
    public void BatchDone(int batch, double loss, double accuracy, double imagesPerSecond) { }
    public void Message(string text) { }
    public void EpochDone(IReadOnlyDictionary<string, object> metrics)
    {
        if ((int)metrics["epoch"] == epoch) throw new OperationCanceledException("simulated crash");
    }
}

public static class ResumeChecks
{
    /// <summary>Two safetensors files hold the same tensors up to float32 rounding (a resumed run against an uninterrupted one).</summary>
    public static void AssertSameTensors(string expectedPath, string actualPath)
    {
        var x = Safetensors.Read(expectedPath).Tensors;
        var y = Safetensors.Read(actualPath).Tensors;
        Assert.Equal(x.Count, y.Count);
        for (int i = 0; i < x.Count; i++)
            for (int j = 0; j < x[i].Data.Length; j++)
                Assert.True(Math.Abs(x[i].Data[j] - y[i].Data[j]) <= 1e-5f * (1 + Math.Abs(x[i].Data[j])), $"{x[i].Name}[{j}]");
    }
}

/// <summary>
/// Runs that seed the global default generator (Generator.ManualSeed) and compare results across runs
/// (resume against an uninterrupted run) run alone: a test in parallel that creates a model draws from
/// the same generator and would change their initialization.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SeededRunsCollection
{
    public const string Name = "seeded runs";
}
