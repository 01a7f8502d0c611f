using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Models;
using NoiseKD.Training;

namespace NoiseKD.Studies;

/// <summary>A study's teacher: trained once on Fashion-MNIST under OutDir/runs/teacher (resuming an interrupted run), then reused.</summary>
public static class StudyTeacher
{
    public static string TrainOrReuse(string outDir, ModelSpec spec, int epochs, OptimizerConfig optimizer, Augmentation? augment, string? dataRoot,
                                      IProgress progress, IBackend device)
    {
        string dir = Path.Combine(outDir, "runs", "teacher"), model = Path.Combine(dir, "model.safetensors");
        if (File.Exists(model)) return model;
        progress.Message($"training the teacher {spec.Arch} x{spec.Width} for {epochs} epoch(s)");
        new Trainer(new TrainOptions(spec, "fashion-mnist", dir, epochs, 128, optimizer, Augment: augment,
                                     Resume: File.Exists(Path.Combine(dir, "checkpoint.safetensors")), DataRoot: dataRoot), progress, device).Run();
        return model;
    }
}
