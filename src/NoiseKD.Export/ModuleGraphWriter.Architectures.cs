using NoiseKD.Functional;
using NoiseKD.Models;
using NoiseKD.Nn;

namespace NoiseKD.Export;

/// <summary>
/// The built-in architectures' wiring, each mirroring its model's OnForward (src/NoiseKD.Models) in
/// inference: the ONNX Runtime parity tests compare every one against our forward.
/// </summary>
internal sealed partial class ModuleGraphWriter
{
    string ResNet(ResNet model, string name, string x)
    {
        var h = ConvBn(model, name, "conv1", "bn1", Activation.Relu, x);
        for (int s = 1; s <= 4; s++) h = Emit(Child<Sequential>(model, $"layer{s}"), Join(name, $"layer{s}"), h);
        return Emit(Child<Linear>(model, "linear"), Join(name, "linear"), GlobalAveragePool(name, h));
    }

    /// <summary>BasicBlock and Bottleneck: relu(bn_last(conv_last(...)) + shortcut(x)).</summary>
    string ResidualBlock(Module block, string name, string x)
    {
        int convs = block is Bottleneck ? 3 : 2;
        var h = x;
        for (int i = 1; i < convs; i++) h = ConvBn(block, name, $"conv{i}", $"bn{i}", Activation.Relu, h);
        var last = ConvBn(block, name, $"conv{convs}", $"bn{convs}", Activation.None, h);
        var shortcut = Emit(Child<Sequential>(block, "shortcut"), Join(name, "shortcut"), x);
        return Activate(Add(Join(name, "add"), last, shortcut), Activation.Relu, name);
    }

    string WideResNet(WideResNet model, string name, string x)
    {
        var h = Emit(Child<Conv2d>(model, "conv1"), Join(name, "conv1"), x);
        for (int s = 1; s <= 3; s++) h = Emit(Child<WideStage>(model, $"block{s}"), Join(name, $"block{s}"), h);
        h = Activate(Emit(Child<BatchNorm>(model, "bn1"), Join(name, "bn1"), h), Activation.Relu, Join(name, "bn1"));
        return Emit(Child<Linear>(model, "fc"), Join(name, "fc"), GlobalAveragePool(name, h));
    }

    /// <summary>Pre-activation block; dropout is the identity in inference.</summary>
    string WideBlock(WideBlock block, string name, string x)
    {
        var activated = Activate(Emit(Child<BatchNorm>(block, "bn1"), Join(name, "bn1"), x), Activation.Relu, Join(name, "bn1"));
        var shortcut = OptionalChild(block, "convShortcut") is Conv2d projection ? Emit(projection, Join(name, "convShortcut"), activated) : x;
        var h = ConvBn(block, name, "conv1", "bn2", Activation.Relu, activated);
        var c2 = Emit(Child<Conv2d>(block, "conv2"), Join(name, "conv2"), h);
        return Add(Join(name, "add"), shortcut, c2);
    }

    string MobileNetV2(MobileNetV2 model, string name, string x)
    {
        var h = ConvBn(model, name, "conv1", "bn1", Activation.Relu, x);
        h = Emit(Child<Sequential>(model, "layers"), Join(name, "layers"), h);
        h = ConvBn(model, name, "conv2", "bn2", Activation.Relu, h);
        return Emit(Child<Linear>(model, "linear"), Join(name, "linear"), GlobalAveragePool(name, h));
    }

    /// <summary>Expand, depthwise, project; the residual only at stride 1 (the depthwise convolution's stride).</summary>
    string InvertedResidual(InvertedResidual block, string name, string x)
    {
        var h = ConvBn(block, name, "conv1", "bn1", Activation.Relu, x);
        h = ConvBn(block, name, "conv2", "bn2", Activation.Relu, h);
        var projected = ConvBn(block, name, "conv3", "bn3", Activation.None, h);
        if (Child<Conv2d>(block, "conv2").Stride != 1) return projected;
        return Add(Join(name, "add"), projected, Emit(Child<Sequential>(block, "shortcut"), Join(name, "shortcut"), x));
    }

    /// <summary>conv-relu-maxpool(2) twice, conv-relu, flatten, fc1-relu, fc2.</summary>
    string LeNet5(LeNet5 model, string name, string x)
    {
        var h = x;
        foreach (var conv in new[] { "conv1", "conv2" })
        {
            var activated = Activate(Emit(Child<Conv2d>(model, conv), Join(name, conv), h), Activation.Relu, Join(name, conv));
            h = graph.Node("MaxPool", Join(name, conv + ".pool"), [activated],
                           OnnxGraphBuilder.Ints("kernel_shape", 2, 2), OnnxGraphBuilder.Ints("strides", 2, 2), OnnxGraphBuilder.Ints("pads", 0, 0, 0, 0));
        }
        h = Activate(Emit(Child<Conv2d>(model, "conv3"), Join(name, "conv3"), h), Activation.Relu, Join(name, "conv3"));
        h = graph.Node("Flatten", Join(name, "flatten"), [h], OnnxGraphBuilder.Int("axis", 1));
        h = Activate(Emit(Child<Linear>(model, "fc1"), Join(name, "fc1"), h), Activation.Relu, Join(name, "fc1"));
        return Emit(Child<Linear>(model, "fc2"), Join(name, "fc2"), h);
    }

    /// <summary>flatten, the Linear-BN-ReLU blocks, the head.</summary>
    string Mlp(Mlp model, string name, string x)
    {
        var h = graph.Node("Flatten", Join(name, "flatten"), [x], OnnxGraphBuilder.Int("axis", 1));
        h = Emit(Child<Sequential>(model, "hidden"), Join(name, "hidden"), h);
        return Emit(Child<Linear>(model, "head"), Join(name, "head"), h);
    }
}
