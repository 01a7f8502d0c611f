using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>Which teacher features DAFL's activation term reads: the input of a Linear layer.</summary>
public enum FeatureLayer
{
    /// <summary>The input of the last Linear layer registered (the classifier): the penultimate features.</summary>
    Classifier,
    /// <summary>
    /// The input of the first Linear layer: the features the public code's models return last. For LeNet-5
    /// that is conv3's 120-d ReLU output (networks/lenet.py, `feature`), for one-Linear models the same as
    /// <see cref="Classifier"/>.
    /// </summary>
    FirstLinear,
}

/// <summary>
/// The teacher's features for the activation term, captured by a forward hook on the chosen Linear layer
/// so the term needs no change to the model's code.
/// </summary>
public sealed class TeacherFeatures : IDisposable
{
    readonly IDisposable _hook;
    Tensor? _last;

    public TeacherFeatures(Module teacher, FeatureLayer layer = FeatureLayer.Classifier)
    {
        var linears = teacher.NamedModules().Select(m => m.Module).OfType<Linear>().ToList();
        if (linears.Count == 0)
            throw new ArgumentException($"the teacher ({teacher.GetType().Name}) has no Linear layer whose input could serve as features for the activation term");
        var source = layer == FeatureLayer.FirstLinear ? linears[0] : linears[^1];
        _hook = source.AddForwardHook((_, input, _) => _last = input);
    }

    /// <summary>The features of the teacher's latest forward pass.</summary>
    public Tensor Last => _last ?? throw new InvalidOperationException("the teacher has not run a forward pass yet");

    public void Dispose() => _hook.Dispose();
}
