using NoiseKD.Functional;
using NoiseKD.Models;
using NoiseKD.Nn;

namespace NoiseKD.Export;

/// <summary>
/// Writes a module's inference forward as ONNX nodes: the leaf layers here, one at a time, and the
/// built-in architectures' wiring (residual adds, pools, heads) in <c>ModuleGraphWriter.Architectures.cs</c>,
/// which mirrors each model's OnForward. Node and initializer names are the modules' state_dict names
/// ("layer1.0.conv1", "layer1.0.conv1.weight"), so a reader of the graph finds PyTorch's names.
/// BatchNorm is written in inference form on the running statistics (see <see cref="OnnxExporter"/> for why).
/// </summary>
internal sealed partial class ModuleGraphWriter(OnnxGraphBuilder graph)
{
    /// <summary>Emits <paramref name="module"/> (named <paramref name="name"/> in the model) applied to value <paramref name="x"/>; returns its output.</summary>
    public string Emit(Module module, string name, string x) => module switch
    {
        Conv2d conv => Conv(conv, name, x),
        BatchNorm bn => BatchNorm(bn, name, x),
        Linear linear => Gemm(linear, name, x),
        ReLU => Activate(x, Activation.Relu, name),
        ReLU6 => Activate(x, Activation.Relu6, name),
        Identity => x,
        Flatten => graph.Node("Flatten", name, [x], OnnxGraphBuilder.Int("axis", 1)),
        Sequential sequential => Chain(sequential, name, x),
        ResNet resnet => ResNet(resnet, name, x),
        BasicBlock or Bottleneck => ResidualBlock(module, name, x),
        WideResNet wrn => WideResNet(wrn, name, x),
        WideStage stage => Chain(Child<Sequential>(stage, "layer"), Join(name, "layer"), x),
        WideBlock block => WideBlock(block, name, x),
        MobileNetV2 mobileNet => MobileNetV2(mobileNet, name, x),
        InvertedResidual block => InvertedResidual(block, name, x),
        LeNet5 lenet => LeNet5(lenet, name, x),
        Mlp mlp => Mlp(mlp, name, x),
        _ => throw new NotSupportedException($"ONNX export does not know the layer {module.GetType().Name} ('{name}')"),
    };

    string Chain(Sequential sequential, string name, string x)
    {
        foreach (var (childName, child) in sequential.Children) x = Emit(child, Join(name, childName), x);
        return x;
    }

    string Conv(Conv2d conv, string name, string x)
    {
        var inputs = new List<string> { x, graph.Initializer(Join(name, "weight"), conv.Weight) };
        if (conv.Bias is not null) inputs.Add(graph.Initializer(Join(name, "bias"), conv.Bias));
        long k = conv.KernelSize, s = conv.Stride, p = conv.Padding;
        return graph.Node("Conv", name, [.. inputs],
                          OnnxGraphBuilder.Ints("kernel_shape", k, k), OnnxGraphBuilder.Ints("strides", s, s),
                          OnnxGraphBuilder.Ints("pads", p, p, p, p), OnnxGraphBuilder.Ints("dilations", 1, 1),
                          OnnxGraphBuilder.Int("group", conv.Groups));
    }

    /// <summary>BatchNormalization in inference form: (x - running_mean) / sqrt(running_var + eps) * weight + bias.</summary>
    string BatchNorm(BatchNorm bn, string name, string x)
    {
        if (bn.RunningMean is null || bn.RunningVar is null)
            throw new NotSupportedException($"BatchNorm '{name}' tracks no running statistics, so it has no inference form to export");
        int c = bn.NumFeatures;
        string scale = bn.Weight is null ? graph.Initializer(Join(name, "weight"), Enumerable.Repeat(1f, c).ToArray(), c)
                                         : graph.Initializer(Join(name, "weight"), bn.Weight);
        string bias = bn.Bias is null ? graph.Initializer(Join(name, "bias"), new float[c], c)
                                      : graph.Initializer(Join(name, "bias"), bn.Bias);
        return graph.Node("BatchNormalization", name,
                          [x, scale, bias, graph.Initializer(Join(name, "running_mean"), bn.RunningMean),
                           graph.Initializer(Join(name, "running_var"), bn.RunningVar)],
                          OnnxGraphBuilder.Float("epsilon", bn.Eps));
    }

    /// <summary>Linear as Gemm: x [N, in] times weight [out, in] transposed, plus bias.</summary>
    string Gemm(Linear linear, string name, string x)
    {
        var inputs = new List<string> { x, graph.Initializer(Join(name, "weight"), linear.Weight) };
        if (linear.Bias is not null) inputs.Add(graph.Initializer(Join(name, "bias"), linear.Bias));
        return graph.Node("Gemm", name, [.. inputs], OnnxGraphBuilder.Int("transB", 1));
    }

    /// <summary>ReLU as Relu, ReLU6 as Clip(x, 0, 6) (min and max are inputs from opset 11 on).</summary>
    string Activate(string x, Activation activation, string name) => activation switch
    {
        Activation.None => x,
        Activation.Relu => graph.Node("Relu", Join(name, "relu"), [x]),
        Activation.Relu6 => graph.Node("Clip", Join(name, "relu6"),
                                       [x, graph.Initializer(Join(name, "relu6.min"), [0f]), graph.Initializer(Join(name, "relu6.max"), [6f])]),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };

    /// <summary>act(bn(conv(x))), the chain <see cref="Blocks"/> runs fused.</summary>
    string ConvBn(Module owner, string name, string conv, string bn, Activation activation, string x)
    {
        string c = Emit(Child<Conv2d>(owner, conv), Join(name, conv), x);
        return Activate(Emit(Child<BatchNorm>(owner, bn), Join(name, bn), c), activation, Join(name, bn));
    }

    /// <summary>flatten(global_average_pool(h)).</summary>
    string GlobalAveragePool(string name, string h) =>
        graph.Node("Flatten", Join(name, "flatten"), [graph.Node("GlobalAveragePool", Join(name, "pool"), [h])], OnnxGraphBuilder.Int("axis", 1));

    string Add(string name, string a, string b) => graph.Node("Add", name, [a, b]);

    static T Child<T>(Module owner, string childName) where T : Module =>
        owner.Children.FirstOrDefault(c => c.Name == childName).Module as T
        ?? throw new InvalidOperationException($"{owner.GetType().Name} has no {typeof(T).Name} named '{childName}'");

    static Module? OptionalChild(Module owner, string childName) => owner.Children.FirstOrDefault(c => c.Name == childName).Module;

    static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
}
