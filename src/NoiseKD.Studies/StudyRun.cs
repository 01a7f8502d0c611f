using NoiseKD.Backends;
using NoiseKD.Distillation;
using NoiseKD.Distillation.PreDfkd;
using NoiseKD.Training;

namespace NoiseKD.Studies;

/// <summary>
/// One run of a study's plan: cached in OutDir/runs/NAME, identified by its key (everything that decides its
/// result, not where it is written), finished when <see cref="FinishedFile"/> exists there. Executing it
/// resumes the folder's checkpoint, so an interrupted run (a killed Slurm task, say) continues where it stopped.
/// </summary>
public abstract class StudyRun(string name, string description)
{
    public string Name { get; } = name;
    public string Description { get; } = description;
    public abstract string Key { get; }
    /// <summary>The run's options as the manifest shows them (for people; the key is what is compared).</summary>
    public abstract object Options { get; }
    public abstract string FinishedFile { get; }
    /// <summary>Runs it in <paramref name="dir"/>, resuming a checkpoint there.</summary>
    public abstract void Execute(string dir, IProgress progress, IBackend device);

    protected static bool HasCheckpoint(string dir) => File.Exists(Path.Combine(dir, "checkpoint.safetensors"));
}

/// <summary>A noise (or other transfer set) distillation: `noisekd distill`.</summary>
public sealed class DistillRun(string name, string description, DistillOptions options) : StudyRun(name, description)
{
    public override string Key => StudyRuns.Key(options);
    public override object Options => options;
    public override string FinishedFile => "summary.json";
    public override void Execute(string dir, IProgress progress, IBackend device) =>
        new Distiller(options with { OutDir = dir, Resume = HasCheckpoint(dir) }, progress, device).Run();
}

/// <summary>A generative data-free distillation (PRE-DFKD, DFAD, replay buffer): `noisekd distill --method`.</summary>
public sealed class PreDfkdRun(string name, string description, PreDfkdOptions options) : StudyRun(name, description)
{
    public override string Key => string.Join(";", options.Fingerprint(), options.Epochs, options.EvalBatchSize, options.Dataset, options.TestLimit);
    public override object Options => options;
    public override string FinishedFile => "summary.json";
    public override void Execute(string dir, IProgress progress, IBackend device) =>
        new PreDfkdDistiller(options with { OutDir = dir, Resume = HasCheckpoint(dir) }, progress, device).Run();
}

/// <summary>The study's teacher, trained once under runs/teacher; every distillation of the study reads its model file.</summary>
public sealed class TeacherRun(string description, TrainOptions options) : StudyRun(StudyTeacher.RunName, description)
{
    public override string Key => string.Join(";", options.Fingerprint(), options.Epochs, options.Augment);
    public override object Options => options;
    public override string FinishedFile => "model.safetensors";
    /// <summary>The options a finished teacher's config.json is compared with.</summary>
    public IReadOnlyList<Setting> Settings() => options.Settings();
    public override void Execute(string dir, IProgress progress, IBackend device) =>
        new Trainer(options with { OutDir = dir, Resume = HasCheckpoint(dir) }, progress, device).Run();
}
