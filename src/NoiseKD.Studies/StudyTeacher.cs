using NoiseKD.Data;
using NoiseKD.Models;
using NoiseKD.Training;

namespace NoiseKD.Studies;

/// <summary>A study's teacher: trained once on the study's dataset under OutDir/runs/teacher (resuming an interrupted run), then reused.</summary>
public static class StudyTeacher
{
    public const string RunName = "teacher";

    /// <summary>The teacher's training as the first run of a study's plan.</summary>
    public static TeacherRun Plan(string outDir, string dataset, ModelSpec spec, int epochs, OptimizerConfig optimizer, Augmentation? augment, string? dataRoot) =>
        new($"training the teacher {spec.Arch} x{spec.Width} on {DatasetCatalog.DisplayName(dataset)} for {epochs} epoch(s)",
            new TrainOptions(spec, dataset, Path.Combine(outDir, "runs", RunName), epochs, 128, optimizer, Augment: augment, DataRoot: dataRoot));

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
