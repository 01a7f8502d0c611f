using System.Globalization;
using NoiseKD.Training;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// Everything `noisekd distill --method pre-dfkd|dfad|replay-buffer:MB` takes. One step is one generator
/// update followed by <see cref="KdIterationsOrDefault"/> student updates on fresh novel samples (plus
/// replay); the memory learns after some of them (<see cref="ReplayScheme"/>). A null option was not given:
/// <see cref="PreDfkdRecipe.Apply"/> fills it from a recipe, else it means the engine recipe's value.
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
    int? LatentSize = null,
    float GeneratorWidth = 1f,
    float VaeWidth = 0.5f,
    bool SpectralNorm = true,
    int? KdIterations = null,
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
    bool Resume = false,
    ReplayScheme? Scheme = null,
    FeatureLayer? ActivationFeatures = null)
{
    static PreDfkdRecipe.Preset Engine => PreDfkdRecipe.Engine;

    public OptimizerConfig OptimizerOrDefault => Optimizer ?? Engine.Optimizer;
    public KdObjective LossOrDefault => Loss ?? Engine.Loss;
    /// <summary>The authors' code trains the memory at the generator's rate / 40.</summary>
    public float VaeLrOrDefault => VaeLr ?? GeneratorLr / 40f;
    public int Novel => NovelSamples ?? BatchSize;
    public int LatentSizeOrDefault => LatentSize ?? Engine.LatentSize;
    public int KdIterationsOrDefault => KdIterations ?? Engine.KdIterations;
    public GeneratorObjective GeneratorOrDefault => Generator ?? Engine.Generator;
    public ReplayScheme SchemeOrDefault => Scheme ?? Engine.Scheme;
    public FeatureLayer ActivationFeaturesOrDefault => ActivationFeatures ?? Engine.ActivationFeatures;

    /// <summary>Replayed samples per student update (default: novel / 2, or novel // 8 with the paper's scheme); 0 for dfad.</summary>
    public int Replay => Method.Kind == ReplayMethod.Dfad ? 0 : ReplaySamples ?? Math.Max(1, Novel / (SchemeOrDefault == ReplayScheme.Paper ? 8 : 2));

    /// <summary>Whether the memory learns after student update k (0-based) of a step, from that update's novel batch.</summary>
    public bool MemoryLearnsAfter(int k) => SchemeOrDefault == ReplayScheme.Paper ? k < PaperMemoryUpdates : k == KdIterationsOrDefault - 1;

    /// <summary>Memory updates per step in the public code (main.py: `dist_step &lt; 4`).</summary>
    public const int PaperMemoryUpdates = 4;

    /// <summary>Memory updates in one step: the public code's first step has this many novel-only updates.</summary>
    public int MemoryUpdatesPerStep => Enumerable.Range(0, KdIterationsOrDefault).Count(MemoryLearnsAfter);

    public void Validate()
    {
        if (Epochs <= 0 || StepsPerEpoch <= 0 || KdIterationsOrDefault <= 0) throw new ArgumentException("epochs, steps per epoch and KD iterations must be positive");
        if (Novel < 2) throw new ArgumentException($"--novel-samples {Novel} must be at least 2 (BatchNorm needs it)");
        if (ReplaySamples is < 0) throw new ArgumentException("--replay-samples must be non-negative");
        if (SchemeOrDefault == ReplayScheme.Paper && Method.Kind == ReplayMethod.PreDfkd && (Replay < 2 || Novel < 4))
            throw new ArgumentException($"--replay-scheme paper needs at least 2 replayed samples (latent tuning takes their variance) and 4 novel ones; got {Replay} and {Novel}");
        if (EvalBatchSize < 1) throw new ArgumentException($"eval batch size {EvalBatchSize} must be positive");
        if (LatentSizeOrDefault <= 0) throw new ArgumentException($"--latent-size {LatentSizeOrDefault} must be positive");
        if (!(GeneratorLr > 0f) || !(VaeLrOrDefault > 0f)) throw new ArgumentException("--generator-lr and --vae-lr must be positive");
        if (!(GeneratorWidth > 0f) || !(VaeWidth > 0f)) throw new ArgumentException("--generator-width and --vae-width must be positive");
        if (!(KlWeight >= 0f)) throw new ArgumentException($"KL weight {KlWeight} must be non-negative");
    }

    /// <summary>The options that decide the result, as `noisekd distill --method ...` names them (config.json compares them on --resume).</summary>
    public IReadOnlyList<Setting> Settings()
    {
        var loss = LossOrDefault;
        var g = GeneratorOrDefault;
        return [Setting.Of("--teacher", Path.GetFullPath(TeacherPath)), Setting.Of("--student-arch", StudentArch), Setting.Of("--student-width", StudentWidth),
                Setting.Of("--method", Method.Kind == ReplayMethod.Buffer ? $"{Method.Kind}:{Method.BufferMegabytes.ToString("R", CultureInfo.InvariantCulture)}" : Method.Kind),
                .. OptimizerOrDefault.Settings(), Setting.Of("--loss", loss.Kind == "kl" ? $"kl:{loss.Temperature.ToString("R", CultureInfo.InvariantCulture)}" : loss.Kind),
                Setting.Of("--generator-lr", GeneratorLr), Setting.Of("--vae-lr", VaeLrOrDefault), Setting.Of("--novel-samples", Novel), Setting.Of("--replay-samples", Replay),
                Setting.Of("--latent-size", LatentSizeOrDefault), Setting.Of("--generator-width", GeneratorWidth), Setting.Of("--vae-width", VaeWidth),
                Setting.Of("--spectral-norm", SpectralNorm), Setting.Of("--kd-iters", KdIterationsOrDefault),
                Setting.Of("--adversarial", g.Disagreement.ToString().ToLowerInvariant()),
                Setting.Of("generator terms (one-hot, entropy, activation, adversarial)", string.Join(", ", new[] { g.OneHot, g.Entropy, g.Activation, g.Adversarial }
                                                                                  .Select(w => w.ToString("R", CultureInfo.InvariantCulture)))),
                Setting.Of("KL weight", KlWeight), Setting.Of("--epochs", Epochs), Setting.Of("--steps", StepsPerEpoch), Setting.Of("--batch-size", BatchSize),
                Setting.Of("--eval-batch-size", EvalBatchSize), Setting.Of("--dataset", Dataset), Setting.Of("--test-limit", TestLimit), Setting.Of("--seed", Seed),
                Setting.Of("--replay-scheme", SchemeOrDefault.ToString().ToLowerInvariant()), Setting.Of("--activation-features", ActivationFeaturesOrDefault.ToString().ToLowerInvariant())];
    }

    /// <summary>The options that must not change between a run and its resumption (a checkpoint stores it).</summary>
    public string Fingerprint() => RunConfig.Fingerprint(Settings());
}
