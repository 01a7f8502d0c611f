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

    /// <summary>Creates the folder; refuses to overwrite an earlier run unless it is being resumed.</summary>
    public void Prepare(bool resume)
    {
        Directory.CreateDirectory(OutDir);
        if (!resume && (File.Exists(Checkpoint) || File.Exists(Student)))
            throw new ArgumentException($"'{OutDir}' already holds a run; pass --resume to continue it or choose another --out");
    }
}
