using System.Text.Json;
using NoiseKD.IO;

namespace NoiseKD.Distillation;

/// <summary>What a distillation run writes under its --out folder.</summary>
public sealed record RunFiles(string OutDir)
{
    public string Checkpoint => Path.Combine(OutDir, "checkpoint.safetensors");
    public string Student => Path.Combine(OutDir, "student.safetensors");
    public string Metrics => Path.Combine(OutDir, "metrics.jsonl");
    public string Summary => Path.Combine(OutDir, "summary.json");
    /// <summary>The transfer images the student saw (<see cref="TransferPreview"/>).</summary>
    public string TransferGrid => Path.Combine(OutDir, "transfer.png");

    /// <summary>A finished run's summary.json as a JSON object; anything else is a format error naming the file.</summary>
    public static Dictionary<string, JsonElement> ReadSummary(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(path))
                   ?? throw new InvalidDataException($"'{path}' is not a run summary (a JSON object)");
        }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not a run summary (a JSON object): {Printable.OneLine(e.Message)}"); }
    }

    /// <summary>
    /// Creates and locks the folder (one run per folder; the caller disposes the lock when the run ends);
    /// refuses to overwrite an earlier run unless it is being resumed. A data-parallel rank that does not
    /// write (<paramref name="writer"/> false) only checks: rank 0 holds the lock for the job.
    /// </summary>
    public RunLock? Prepare(bool resume, bool writer = true)
    {
        var runLock = writer ? RunLock.Acquire(OutDir) : null;
        if (!resume && (File.Exists(Checkpoint) || File.Exists(Student)))
        {
            runLock?.Dispose();
            throw new ArgumentException($"'{OutDir}' already holds a run; pass --resume to continue it or choose another --out");
        }
        return runLock;
    }
}
