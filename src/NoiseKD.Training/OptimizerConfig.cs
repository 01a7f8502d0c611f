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
    /// 'step:E[:G]' (x G every E epochs, G=0.1), 'multistep:E1,E2,..[:G]'.
    /// </summary>
    public LrSchedule? CreateSchedule(Optimizer optimizer, int epochs, int stepsPerEpoch)
    {
        var parts = Schedule.ToLowerInvariant().Split(':');
        float Gamma(int i) => parts.Length > i ? ParseFloat(parts[i]) : 0.1f;
        return parts[0] switch
        {
            "none" or "constant" => null,
            "cosine" => new CosineLr(optimizer, epochs * stepsPerEpoch),
            "step" when parts.Length >= 2 => new StepLr(optimizer, ParseInt(parts[1]) * stepsPerEpoch, Gamma(2)),
            "multistep" when parts.Length >= 2 => new MultiStepLr(optimizer, parts[1].Split(',').Select(e => ParseInt(e) * stepsPerEpoch), Gamma(2)),
            _ => throw new ArgumentException($"schedule '{Schedule}' must be none, cosine, step:EPOCHS[:GAMMA] or multistep:E1,E2[:GAMMA]"),
        };
    }

    public void Validate()
    {
        Create([Tensor.Zeros([1])]);
        if (!(Lr > 0f)) throw new ArgumentException($"learning rate {Lr} must be positive");
        CreateSchedule(new Sgd([Tensor.Zeros([1])], 1f), 1, 1);
    }

    static float ParseFloat(string s) => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
        : throw new ArgumentException($"'{s}' is not a number");
    static int ParseInt(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v
        : throw new ArgumentException($"'{s}' is not a positive whole number");
}
