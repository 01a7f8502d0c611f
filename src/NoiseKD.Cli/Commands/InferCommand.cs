using CommandLine;
using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Serialization;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Cli.Commands;

[Verb("infer", HelpText = "Logits of a model file for an input tensor read from a safetensors file.")]
public sealed class InferCommand : CommonOptions, ICommand
{
    public const string InputName = "input", OutputName = "logits";

    [Option("model", Required = true, HelpText = "A model file (model.safetensors) written by train, import or distill.")]
    public string Model { get; set; } = "";

    [Option("input", Required = true, HelpText = "safetensors file with a tensor named 'input' [N, C, H, W], fed to the network as is (already normalized).")]
    public string Input { get; set; } = "";

    [Option("bn", Default = "running", HelpText = "BatchNorm statistics: running (stored) or current (the input batch's own; buffers untouched).")]
    public string Bn { get; set; } = "";

    [Option("output", Required = true, HelpText = "safetensors file to write; the tensor is named 'logits' [N, classes].")]
    public string Output { get; set; } = "";

    public int Run()
    {
        var device = OpenDevice();
        Devices.Default = device;
        var statistics = BnControl.Parse(Bn);
        if (!File.Exists(Model)) throw new FileNotFoundException($"model file '{Model}' does not exist");
        if (!File.Exists(Input)) throw new FileNotFoundException($"input file '{Input}' does not exist");
        var (model, file) = ModelFile.Load(Model);
        var input = ReadInput(Input, file.Spec);

        var (logits, shape) = Logits(model, input.Data, input.Shape, statistics, device);
        Safetensors.Write(Output, [new NamedArray(OutputName, shape, logits)],
                          new Dictionary<string, string> { ["arch"] = file.Spec.Arch, ["bn"] = statistics.ToString().ToLowerInvariant() });
        Console.WriteLine($"logits [{string.Join(", ", shape)}] of {file.Spec.Arch} (BN {statistics.ToString().ToLowerInvariant()}) written to {Output}");
        return 0;
    }

    /// <summary>
    /// The model's logits for one input batch, in eval mode, on the given BatchNorm statistics (buffers never
    /// move): what `infer` writes, and the reference the ONNX export is checked against.
    /// </summary>
    public static (float[] Logits, int[] Shape) Logits(Module model, float[] input, int[] inputShape, BnStatistics statistics, IBackend device)
    {
        model.Eval();
        using (BnControl.Override(model, statistics, updateRunning: false))
        using (Tape.NoGrad())
        using (new TensorScope())
        {
            var y = model.Forward(Tensor.FromArray(input, inputShape, device));
            return (y.ToArray(), y.Shape);
        }
    }

    /// <summary>The tensor named 'input', checked against the [N, C, S, S] the model was built for.</summary>
    static NamedArray ReadInput(string path, ModelSpec spec)
    {
        var (arrays, _) = Safetensors.Read(path);
        var input = arrays.FirstOrDefault(a => a.Name == InputName)
            ?? throw new InvalidDataException($"'{path}' has no tensor named '{InputName}' (it has: {string.Join(", ", arrays.Select(a => a.Name).Take(10))})");
        var s = input.Shape;
        if (s.Length != 4 || s[0] < 1 || s[1] != spec.InChannels || s[2] != spec.ImageSize || s[3] != spec.ImageSize)
            throw new ArgumentException($"input [{string.Join(", ", s)}] does not fit {spec.Arch}, which takes [N, {spec.InChannels}, {spec.ImageSize}, {spec.ImageSize}]");
        return input;
    }
}
