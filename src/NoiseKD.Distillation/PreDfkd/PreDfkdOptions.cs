using System.Globalization;
using NoiseKD.Training;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// Everything `noisekd distill --method pre-dfkd|dfad|replay-buffer:MB` takes. One step is one generator
/// update followed by <see cref="KdIterations"/> student updates on fresh novel samples (plus replay), after
/// which the memory learns from the last novel batch (the authors' code alternates the same way).
/// </summary>
public sealed record PreDfkdOptions(
    string TeacherPath,
    string StudentArch,
    string OutDir,
    ReplayMethod Method,
    float StudentWidth = 1f,
    OptimizerConfig? Optimizer = null,
    KdObjective? Loss = null,
    float GeneratorLr = 0.02f,
    float? VaeLr = null,
    int? NovelSamples = null,
    int? ReplaySamples = null,
    int LatentSize = 100,
    float GeneratorWidth = 1f,
    float VaeWidth = 0.5f,
    bool SpectralNorm = true,
    int KdIterations = 5,
    GeneratorObjective? Generator = null,
    float KlWeight = 1e-5f,
    int Epochs = 5,
    int StepsPerEpoch = 50,
    int BatchSize = 128,
    int EvalBatchSize = 500,
    string? Dataset = null,
    string? DataRoot = null,
    int? TestLimit = null,
    ulong Seed = 0,
    bool Resume = false)
{
    public OptimizerConfig OptimizerOrDefault => Optimizer ?? new OptimizerConfig("sgd", 0.1f, 0.9f, 5e-4f, false, "cosine");
    public KdObjective LossOrDefault => Loss ?? KdObjective.Parse("l1");
    /// <summary>The authors' code trains the memory at the generator's rate / 40.</summary>
    public float VaeLrOrDefault => VaeLr ?? GeneratorLr / 40f;
    public int Novel => NovelSamples ?? BatchSize;
    /// <summary>Replayed samples per student update (default: half the novel batch); 0 for dfad.</summary>
    public int Replay => Method.Kind == ReplayMethod.Dfad ? 0 : ReplaySamples ?? Math.Max(1, Novel / 2);
    public GeneratorObjective GeneratorOrDefault => Generator ?? new GeneratorObjective();

    public void Validate()
    {
        if (Epochs <= 0 || StepsPerEpoch <= 0 || KdIterations <= 0) throw new ArgumentException("epochs, steps per epoch and KD iterations must be positive");
        if (Novel < 2) throw new ArgumentException($"--novel-samples {Novel} must be at least 2 (BatchNorm needs it)");
        if (ReplaySamples is < 0) throw new ArgumentException("--replay-samples must be non-negative");
        if (EvalBatchSize < 1) throw new ArgumentException($"eval batch size {EvalBatchSize} must be positive");
        if (LatentSize <= 0) throw new ArgumentException($"--latent-size {LatentSize} must be positive");
        if (!(GeneratorLr > 0f) || !(VaeLrOrDefault > 0f)) throw new ArgumentException("--generator-lr and --vae-lr must be positive");
        if (!(GeneratorWidth > 0f) || !(VaeWidth > 0f)) throw new ArgumentException("--generator-width and --vae-width must be positive");
        if (!(KlWeight >= 0f)) throw new ArgumentException($"KL weight {KlWeight} must be non-negative");
    }

    public string Fingerprint() => string.Join(";", Path.GetFullPath(TeacherPath), StudentArch, StudentWidth.ToString("R", CultureInfo.InvariantCulture),
        Method, OptimizerOrDefault, LossOrDefault, GeneratorLr.ToString("R", CultureInfo.InvariantCulture), VaeLrOrDefault.ToString("R", CultureInfo.InvariantCulture),
        Novel, Replay, LatentSize, GeneratorWidth.ToString("R", CultureInfo.InvariantCulture), VaeWidth.ToString("R", CultureInfo.InvariantCulture),
        SpectralNorm, KdIterations, GeneratorOrDefault, KlWeight.ToString("R", CultureInfo.InvariantCulture), StepsPerEpoch, Seed);
}
