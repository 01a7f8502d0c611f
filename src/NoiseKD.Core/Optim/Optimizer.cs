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

    /// <summary>A persistent zero tensor shaped like the parameter (optimizer state outlives step scopes).</summary>
    protected static Tensor ZerosLike(Tensor parameter)
    {
        using (TensorScope.Suspend()) return Tensor.Zeros(parameter.Shape, parameter.Backend);
    }
}
