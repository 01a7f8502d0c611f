using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Models;
using NoiseKD.Training;

namespace NoiseKD.Studies;

/// <summary>A study's teacher: trained once on the study's dataset under OutDir/runs/teacher (resuming an interrupted run), then reused.</summary>
public static class StudyTeacher
{
    public static string TrainOrReuse(string outDir, string dataset, ModelSpec spec, int epochs, OptimizerConfig optimizer, Augmentation? augment, string? dataRoot,
                                      IProgress progress, IBackend device)
    {
        string dir = Path.Combine(outDir, "runs", "teacher"), model = Path.Combine(dir, "model.safetensors");
        var options = new TrainOptions(spec, dataset, dir, epochs, 128, optimizer, Augment: augment,
                                       Resume: File.Exists(Path.Combine(dir, "checkpoint.safetensors")), DataRoot: dataRoot);
        if (File.Exists(model))
        {
            RunConfig.CheckSame(dir, options.Settings(), "the study's teacher");
            return CheckDataset(model, dataset);
        }
        progress.Message($"training the teacher {spec.Arch} x{spec.Width} on {DatasetCatalog.DisplayName(dataset)} for {epochs} epoch(s)");
        new Trainer(options, progress, device).Run();
        return model;
    }

    /// <summary>The dataset a model file was trained on (files from before the metadata named it are Fashion-MNIST's).</summary>
    public static string DatasetOf(ModelFile file) => (file.Metadata.GetValueOrDefault("dataset") ?? "fashion-mnist").ToLowerInvariant();

    /// <summary>The teacher file, if it was trained on <paramref name="dataset"/>; a study folder holds one dataset's runs.</summary>
    public static string CheckDataset(string model, string dataset)
    {
        string trained = DatasetOf(ModelFile.Load(model).File);
        if (trained != dataset)
            throw new ArgumentException($"teacher '{model}' was trained on {trained}, not {dataset}; pass --dataset {trained}, or another --out for a {dataset} study");
        return model;
    }
}
