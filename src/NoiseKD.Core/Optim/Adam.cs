using NoiseKD.Tensors;

namespace NoiseKD.Optim;

/// <summary>
/// torch.optim.Adam (Kingma &amp; Ba 2015, Algorithm 1, with L2 weight decay added to the gradient), and
/// with <c>decoupled</c> the AdamW rule (Loshchilov &amp; Hutter 2019): p *= 1 - lr*wd before the step.
/// </summary>
public class Adam : Optimizer
{
    readonly Tensor?[] _m, _v;
    readonly int[] _steps;
    readonly bool _decoupled;

    public Adam(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
                float eps = 1e-8f, float weightDecay = 0f) : this(parameters, learningRate, beta1, beta2, eps, weightDecay, false) { }

    protected Adam(IEnumerable<Tensor> parameters, float learningRate, float beta1, float beta2, float eps, float weightDecay, bool decoupled)
        : base(parameters, learningRate)
    {
        if (beta1 is < 0f or >= 1f || beta2 is < 0f or >= 1f) throw new ArgumentException($"Adam: betas ({beta1}, {beta2}) must be in [0, 1)");
        if (!(eps >= 0f) || !(weightDecay >= 0f)) throw new ArgumentException("Adam: eps and weight decay must be non-negative");
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        _decoupled = decoupled;
        _m = new Tensor?[Parameters.Count];
        _v = new Tensor?[Parameters.Count];
        _steps = new int[Parameters.Count];
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }

    protected override void Update(int index, Tensor parameter, Tensor grad)
    {
        _m[index] ??= ZerosLike(parameter);
        _v[index] ??= ZerosLike(parameter);
        int step = ++_steps[index];
        parameter.Backend.AdamUpdate(parameter.Buffer, grad.Buffer, _m[index]!.Buffer, _v[index]!.Buffer, parameter.Numel,
                                     LearningRate, Beta1, Beta2, Eps, WeightDecay, _decoupled, step);
    }

    public override IEnumerable<(string Name, Tensor Value)> State()
    {
        for (int i = 0; i < _m.Length; i++)
        {
            if (_m[i] is { } m) yield return ($"exp_avg.{i}", m);
            if (_v[i] is { } v) yield return ($"exp_avg_sq.{i}", v);
            if (_steps[i] > 0) yield return ($"step.{i}", Tensor.Scalar(_steps[i], Parameters[i].Backend));
        }
    }

    protected override void LoadEntry(string kind, int index, float[] data)
    {
        switch (kind)
        {
            case "exp_avg": _m[index] = RestoreLike(index, data); break;
            case "exp_avg_sq": _v[index] = RestoreLike(index, data); break;
            case "step": _steps[index] = (int)data[0]; break;
            default: throw new InvalidDataException($"Adam has no state '{kind}'");
        }
    }
}

/// <summary>torch.optim.AdamW: Adam with decoupled weight decay (default 0.01 as in PyTorch).</summary>
public sealed class AdamW(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
                          float eps = 1e-8f, float weightDecay = 1e-2f)
    : Adam(parameters, learningRate, beta1, beta2, eps, weightDecay, true);
