using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// The teacher's penultimate features (the input of its classifier, the last Linear layer registered),
/// captured by a forward hook so DAFL's activation term needs no change to the model's code.
/// </summary>
public sealed class PenultimateFeatures : IDisposable
{
    readonly IDisposable _hook;
    Tensor? _last;

    public PenultimateFeatures(Module teacher)
    {
        var classifier = teacher.NamedModules().Select(m => m.Module).OfType<Linear>().LastOrDefault()
            ?? throw new ArgumentException($"the teacher ({teacher.GetType().Name}) has no Linear classifier whose input could serve as penultimate features");
        _hook = classifier.AddForwardHook((_, input, _) => _last = input);
    }

    /// <summary>The features of the teacher's latest forward pass.</summary>
    public Tensor Last => _last ?? throw new InvalidOperationException("the teacher has not run a forward pass yet");

    public void Dispose() => _hook.Dispose();
}
