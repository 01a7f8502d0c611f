using System.Globalization;
using NoiseKD.Optim;
using NoiseKD.Tensors;

namespace NoiseKD.Training;

/// <summary>An optimizer and learning-rate schedule as named on the command line.</summary>
public sealed record OptimizerConfig(string Name = "sgd", float Lr = 0.1f, float Momentum = 0.9f, float WeightDecay = 5e-4f,
                                     bool Nesterov = false, string Schedule = "cosine")
{
    public Optimizer Create(IEnumerable<Tensor> parameters) => Name.ToLowerInvariant() switch
    {
        "sgd" => new Sgd(parameters, Lr, Momentum, 0f, WeightDecay, Nesterov),
        "adam" => new Adam(parameters, Lr, weightDecay: WeightDecay),
        "adamw" => new AdamW(parameters, Lr, weightDecay: WeightDecay),
        _ => throw new ArgumentException($"optimizer '{Name}' must be sgd, adam or adamw"),
    };

    /// <summary>
    /// The schedule, stepped once per optimizer step: 'none', 'cosine' (annealed to 0 over the whole run),
    /// 'step:E[:G]' (x G every E epochs, G=0.1), 'multistep:E1,E2,..[:G]'. 'plateau' is stepped once per epoch
    /// on a measured loss instead (<see cref="CreatePlateau"/>): only callers that measure one may allow it.
    /// </summary>
    public LrSchedule? CreateSchedule(Optimizer optimizer, int epochs, int stepsPerEpoch, bool plateauAllowed = false)
    {
        var parts = Schedule.ToLowerInvariant().Split(':');
        float Gamma(int i) => parts.Length > i ? ParseFloat(parts[i]) : 0.1f;
        return parts[0] switch
        {
            "none" or "constant" => null,
            "plateau" when plateauAllowed => null, // stepped per epoch by the caller: CreatePlateau
            "plateau" => throw new ArgumentException($"schedule '{Schedule}' is available in distill (noise) only; here use none, cosine, step or multistep"),
            "cosine" => new CosineLr(optimizer, epochs * stepsPerEpoch),
            "step" when parts.Length >= 2 => new StepLr(optimizer, ParseInt(parts[1]) * stepsPerEpoch, Gamma(2)),
            "multistep" when parts.Length >= 2 => new MultiStepLr(optimizer, parts[1].Split(',').Select(e => ParseInt(e) * stepsPerEpoch), Gamma(2)),
            _ => throw new ArgumentException($"schedule '{Schedule}' must be none, cosine, step:EPOCHS[:GAMMA], multistep:E1,E2[:GAMMA] or plateau[:PATIENCE[:FACTOR]]"),
        };
    }

    /// <summary>
    /// 'plateau[:PATIENCE[:FACTOR]]' (PyTorch's ReduceLROnPlateau, patience 10 and factor 0.1 by default): the rate
    /// is multiplied by FACTOR once the watched loss has not improved for more than PATIENCE epochs; null for other schedules.
    /// </summary>
    public ReduceLrOnPlateau? CreatePlateau(Optimizer optimizer)
    {
        var parts = Schedule.ToLowerInvariant().Split(':');
        if (parts[0] != "plateau") return null;
        if (parts.Length > 3) throw new ArgumentException($"schedule '{Schedule}' must be plateau[:PATIENCE[:FACTOR]]");
        int patience = parts.Length > 1 ? ParseCount(parts[1]) : 10;
        float factor = parts.Length > 2 ? ParseFloat(parts[2]) : 0.1f;
        if (!(factor > 0f && factor < 1f)) throw new ArgumentException($"schedule '{Schedule}': the factor must be between 0 and 1");
        return new ReduceLrOnPlateau(optimizer, maximize: false, factor, patience);
    }

    /// <summary>Explicit command-line values over this configuration (a preset): null keeps the preset's value.</summary>
    public OptimizerConfig With(string? name, float? lr, float? momentum, float? weightDecay, bool? nesterov, string? schedule) =>
        new(name ?? Name, lr ?? Lr, momentum ?? Momentum, weightDecay ?? WeightDecay, nesterov ?? Nesterov, schedule ?? Schedule);

    /// <summary>Whether the schedule stretches over the whole run (cosine), so that another --epochs changes every step's rate.</summary>
    public bool ScheduleDependsOnLength => Schedule.ToLowerInvariant().Split(':')[0] == "cosine";

    static readonly IReadOnlySet<string> Nothing = new HashSet<string>(), EpochsOnly = new HashSet<string> { "--epochs" };

    /// <summary>
    /// The options a --resume of a run with this optimizer may change (train's and distill's): --epochs when the schedule
    /// does not depend on the run's length (none, step, multistep, plateau), since a run extended then takes the same
    /// steps as one started with the new length; nothing under cosine.
    /// </summary>
    public IReadOnlySet<string> ResumeMayChange => ScheduleDependsOnLength ? Nothing : EpochsOnly;

    /// <summary>The optimizer's options as the command line names them (<see cref="RunConfig"/>).</summary>
    public IEnumerable<Setting> Settings() =>
    [
        Setting.Of("--optimizer", Name.ToLowerInvariant()), Setting.Of("--lr", Lr), Setting.Of("--momentum", Momentum), Setting.Of("--weight-decay", WeightDecay),
        Setting.Of("--nesterov", Nesterov), Setting.Of("--schedule", Schedule.ToLowerInvariant()),
    ];

    public string Describe() => $"{Name.ToLowerInvariant()} lr {Lr.ToString("G", CultureInfo.InvariantCulture)}" +
        (Name.Equals("sgd", StringComparison.OrdinalIgnoreCase) ? $", momentum {Momentum.ToString("G", CultureInfo.InvariantCulture)}{(Nesterov ? " (Nesterov)" : "")}" : "") +
        $", weight decay {WeightDecay.ToString("G", CultureInfo.InvariantCulture)}, schedule {Schedule}";

    public void Validate()
    {
        Create([Tensor.Zeros([1])]);
        if (!(Lr > 0f)) throw new ArgumentException($"learning rate {Lr} must be positive");
        var probe = new Sgd([Tensor.Zeros([1])], 1f);
        CreateSchedule(probe, 1, 1, plateauAllowed: true);
        CreatePlateau(probe);
    }

    static float ParseFloat(string s) => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
        : throw new ArgumentException($"'{s}' is not a number");
    static int ParseCount(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v
        : throw new ArgumentException($"'{s}' is not a whole number >= 0");
    static int ParseInt(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v
        : throw new ArgumentException($"'{s}' is not a positive whole number");
}
