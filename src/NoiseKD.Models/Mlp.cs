using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Models;

/// <summary>
/// A small multilayer perceptron with BatchNorm1d after every hidden Linear (Linear-BN-ReLU blocks,
/// names hidden.{i}.{0,1}), then a linear head. The toy model of the noise-KD paper's Figure 3:
/// <see cref="Embed"/> returns the last hidden activations for plotting.
/// </summary>
public sealed class Mlp : Module
{
    readonly Sequential _hidden;
    readonly Linear _head;

    public Mlp(int inFeatures = 2, int classes = 2, int hiddenWidth = 32, int hiddenLayers = 2)
    {
        if (hiddenLayers < 1) throw new ArgumentException("MLP needs at least one hidden layer");
        _hidden = RegisterModule("hidden", new Sequential());
        int width = inFeatures;
        for (int i = 0; i < hiddenLayers; i++)
        {
            _hidden.Add(new Sequential(new Linear(width, hiddenWidth), new BatchNorm1d(hiddenWidth), new ReLU()));
            width = hiddenWidth;
        }
        _head = RegisterModule("head", new Linear(width, classes));
    }

    public Tensor Embed(Tensor x) => _hidden.Forward(F.Flatten(x));

    protected override Tensor OnForward(Tensor x) => _head.Forward(Embed(x));
}
