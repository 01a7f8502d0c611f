using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Models;

/// <summary>
/// LeNet-5 as in the DAFL code (conv 5x5 x3 with ReLU and 2x2 max-pools, then 120-84-classes), and
/// LeNet-5-half with every width halved. Built for 32x32 inputs; for 28x28 the first convolution is
/// padded by 2, the classic MNIST arrangement, so both reach a 1x1 map before fc1.
/// </summary>
public sealed class LeNet5 : Module
{
    readonly Conv2d _conv1, _conv2, _conv3;
    readonly Linear _fc1, _fc2;

    public LeNet5(int inChannels = 1, int classes = 10, bool half = false, int imageSize = 32)
    {
        if (imageSize != 32 && imageSize != 28) throw new ArgumentException($"LeNet-5 takes 28x28 or 32x32 inputs, not {imageSize}");
        int c1 = half ? 3 : 6, c2 = half ? 8 : 16, c3 = half ? 60 : 120, f1 = half ? 42 : 84;
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, c1, 5, 1, imageSize == 28 ? 2 : 0));
        _conv2 = RegisterModule("conv2", new Conv2d(c1, c2, 5));
        _conv3 = RegisterModule("conv3", new Conv2d(c2, c3, 5));
        _fc1 = RegisterModule("fc1", new Linear(c3, f1));
        _fc2 = RegisterModule("fc2", new Linear(f1, classes));
    }

    protected override Tensor OnForward(Tensor x)
    {
        var h = F.MaxPool2d(F.Relu(_conv1.Forward(x)), 2);
        h = F.MaxPool2d(F.Relu(_conv2.Forward(h)), 2);
        h = F.Flatten(F.Relu(_conv3.Forward(h)));
        return _fc2.Forward(F.Relu(_fc1.Forward(h)));
    }
}
