using NoiseKD.Autograd;
using NoiseKD.Tensors;

namespace NoiseKD.Optim;

/// <summary>Base of the optimizers: a list of parameters, a learning rate schedules can change, and per-parameter state.</summary>
public abstract class Optimizer
{
    protected Optimizer(IEnumerable<Tensor> parameters, float learningRate)
    {
        Parameters = parameters.ToArray();
        if (Parameters.Count == 0) throw new ArgumentException("optimizer got an empty parameter list");
        if (!(learningRate >= 0f)) throw new ArgumentException($"learning rate {learningRate} must be non-negative");
        LearningRate = InitialLearningRate = learningRate;
    }

    public IReadOnlyList<Tensor> Parameters { get; }
    public float LearningRate { get; set; }
    /// <summary>The learning rate given at construction (schedules scale from it).</summary>
    public float InitialLearningRate { get; }
    /// <summary>Steps taken so far.</summary>
    public int StepCount { get; protected set; }

    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.ZeroGrad();
    }

    /// <summary>Updates every parameter that has a gradient (those without are skipped, as in PyTorch).</summary>
    public void Step()
    {
        StepCount++;
        using var _ = Tape.NoGrad();
        for (int i = 0; i < Parameters.Count; i++)
            if (Parameters[i].Grad is { } grad) Update(i, Parameters[i], grad);
    }

    protected abstract void Update(int index, Tensor parameter, Tensor grad);

    /// <summary>Named state tensors (momentum buffers, moments) for checkpoints: "{kind}.{parameter index}".</summary>
    public abstract IEnumerable<(string Name, Tensor Value)> State();

    /// <summary>
    /// Restores state saved from <see cref="State"/> (plus the step count), e.g. when resuming from a
    /// checkpoint. Entries must match the parameters' shapes.
    /// </summary>
    public void LoadState(IReadOnlyDictionary<string, float[]> state, int stepCount)
    {
        StepCount = stepCount;
        foreach (var (name, data) in state)
        {
            int dot = name.LastIndexOf('.');
            if (dot < 0 || !int.TryParse(name.AsSpan(dot + 1), out int index) || index < 0 || index >= Parameters.Count)
                throw new InvalidDataException($"optimizer state entry '{name}' does not name a parameter");
            if (data.Length != Parameters[index].Numel && !name.StartsWith("step.", StringComparison.Ordinal))
                throw new InvalidDataException($"optimizer state '{name}' has {data.Length} values, parameter {index} has {Parameters[index].Numel}");
            LoadEntry(name[..dot], index, data);
        }
    }

    protected abstract void LoadEntry(string kind, int index, float[] data);

    /// <summary>A persistent tensor shaped like parameter <paramref name="index"/>, filled from saved data.</summary>
    protected Tensor RestoreLike(int index, float[] data)
    {
        using (TensorScope.Suspend()) return Tensor.FromArray(data, Parameters[index].Shape, Parameters[index].Backend);
    }

    /// <summary>A persistent zero tensor shaped like the parameter (optimizer state outlives step scopes).</summary>
    protected static Tensor ZerosLike(Tensor parameter)
    {
        using (TensorScope.Suspend()) return Tensor.Zeros(parameter.Shape, parameter.Backend);
    }
}
