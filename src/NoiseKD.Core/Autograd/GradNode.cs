using NoiseKD.Tensors;

namespace NoiseKD.Autograd;

/// <summary>
/// One recorded operation: its inputs and the closure that, given the gradient of its output,
/// adds the gradients of its inputs (micrograd's design: the tape is just these closures).
/// </summary>
internal sealed class GradNode(string name, Tensor[] inputs, Action<Tensor> backward)
{
    public string Name { get; } = name;
    public Tensor[] Inputs { get; } = inputs;
    public Action<Tensor> Backward { get; } = backward;
}
