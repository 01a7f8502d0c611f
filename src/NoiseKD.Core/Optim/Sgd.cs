using NoiseKD.Tensors;

namespace NoiseKD.Optim;

/// <summary>torch.optim.SGD: momentum, dampening, Nesterov and L2 weight decay with PyTorch's update rule.</summary>
public sealed class Sgd : Optimizer
{
    readonly Tensor?[] _momentum;

    public Sgd(IEnumerable<Tensor> parameters, float learningRate, float momentum = 0f, float dampening = 0f,
               float weightDecay = 0f, bool nesterov = false) : base(parameters, learningRate)
    {
        if (momentum < 0f || weightDecay < 0f) throw new ArgumentException("SGD: momentum and weight decay must be non-negative");
        if (nesterov && (momentum <= 0f || dampening != 0f)) throw new ArgumentException("SGD: Nesterov needs momentum > 0 and zero dampening");
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        _momentum = new Tensor?[Parameters.Count];
    }

    public float Momentum { get; }
    public float Dampening { get; }
    public float WeightDecay { get; }
    public bool Nesterov { get; }

    protected override void Update(int index, Tensor parameter, Tensor grad)
    {
        bool first = false;
        if (Momentum != 0f && _momentum[index] is null)
        {
            _momentum[index] = ZerosLike(parameter);
            first = true;
        }
        parameter.Backend.SgdUpdate(parameter.Buffer, grad.Buffer, _momentum[index]?.Buffer, parameter.Numel,
                                    LearningRate, Momentum, Dampening, WeightDecay, Nesterov, first);
    }

    protected override void LoadEntry(string kind, int index, float[] data)
    {
        if (kind != "momentum_buffer") throw new InvalidDataException($"SGD has no state '{kind}'");
        _momentum[index] = RestoreLike(index, data);
    }

    public override IEnumerable<(string Name, Tensor Value)> State()
    {
        for (int i = 0; i < _momentum.Length; i++)
            if (_momentum[i] is { } m) yield return ($"momentum_buffer.{i}", m);
    }
}
