using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NoiseKD.Backends.Cpu;
using NoiseKD.Cli.Commands;
using NoiseKD.Export;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Tests.Parity;
using Xunit;
using Xunit.Abstractions;

namespace NoiseKD.Tests.Export;

/// <summary>
/// Every built-in architecture exported to ONNX and run by ONNX Runtime (all graph optimizations on, so
/// its BatchNorm-into-Conv folding and fusions run too) gives the logits of `noisekd infer` on running
/// statistics, within 1e-5 relative over the whole tensor: at batch 1 and 3 of a dynamic-batch file, at
/// a fixed batch, with and without the normalization folded in.
/// </summary>
public class OnnxExportTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-5;

    /// <summary>(arch, width, channels, image size): small enough to keep each case well under a second.</summary>
    public static TheoryData<string, float, int, int> Architectures => new()
    {
        { "resnet18", 0.125f, 3, 16 },
        { "resnet34", 0.125f, 1, 16 },
        { "resnet50", 0.0625f, 3, 16 },
        { "resnet101", 0.0625f, 3, 8 },
        { "wrn-16-2", 0.25f, 3, 16 },
        { "mobilenetv2", 0.25f, 3, 16 },
        { "lenet5", 1f, 1, 28 },
        { "lenet5-half", 1f, 3, 32 },
        { "mlp", 1f, 1, 8 },
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void OnnxRuntimeGivesOurLogits(string arch, float width, int channels, int size)
    {
        var spec = new ModelSpec(arch, width, channels, 10, size);
        var (model, file) = RandomModel(spec, seed: arch.GetHashCode(StringComparison.Ordinal) & 0xffff);
        foreach (bool normalization in new[] { false, true })
        {
            using var dynamic = Session(OnnxExporter.ToBytes(model, file, new OnnxExportOptions(IncludeNormalization: normalization)));
            foreach (int n in new[] { 1, 3 }) AssertSameLogits(model, file, dynamic, n, normalization, $"{arch} dynamic batch {n}, normalization {normalization}");
            using var fixedBatch = Session(OnnxExporter.ToBytes(model, file, new OnnxExportOptions(Opset: 13, Batch: 2, IncludeNormalization: normalization)));
            AssertSameLogits(model, file, fixedBatch, 2, normalization, $"{arch} fixed batch 2 (opset 13), normalization {normalization}");
        }
    }

    [Fact]
    public void InputsOutputsAndMetadataAreDocumented()
    {
        var spec = new ModelSpec("resnet18", 0.125f, 3, 10, 16);
        var (model, file) = RandomModel(spec, seed: 1, new Dictionary<string, string> { ["dataset"] = "cifar10" });
        using var session = Session(OnnxExporter.ToBytes(model, file, new OnnxExportOptions()));
        Assert.Equal([OnnxExporter.InputName], session.InputMetadata.Keys);
        Assert.Equal([-1, 3, 16, 16], session.InputMetadata[OnnxExporter.InputName].Dimensions);
        Assert.Equal([OnnxExporter.OutputName], session.OutputMetadata.Keys);
        Assert.Equal([-1, 10], session.OutputMetadata[OnnxExporter.OutputName].Dimensions);
        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("resnet18", meta["arch"]);
        Assert.Equal("0.125", meta["width"]);
        Assert.Equal("cifar10", meta["dataset"]);
        Assert.Equal(file.Metadata["norm_mean"], meta["norm_mean"]);
        Assert.Equal(file.Metadata["norm_std"], meta["norm_std"]);
        Assert.Equal("normalized", meta[OnnxExporter.InputPixelsKey]);
        Assert.Equal("running", meta[OnnxExporter.BatchNormKey]);
        Assert.False(meta.ContainsKey(OnnxExporter.BatchNormNoteKey));
        Assert.Equal("noisekd", session.ModelMetadata.ProducerName);

        using var fixedBatch = Session(OnnxExporter.ToBytes(model, file, new OnnxExportOptions(Batch: 4, IncludeNormalization: true)));
        Assert.Equal([4, 3, 16, 16], fixedBatch.InputMetadata[OnnxExporter.InputName].Dimensions);
        Assert.Equal("raw", fixedBatch.ModelMetadata.CustomMetadataMap[OnnxExporter.InputPixelsKey]);
    }

    /// <summary>ReLU6 becomes Clip(x, 0, 6); no built-in architecture has one, so a small Sequential checks it.</summary>
    [Fact]
    public void Relu6IsExportedAsClip()
    {
        var model = new Sequential(new Conv2d(2, 4, 3, 1, 1), new BatchNorm2d(4), new ReLU6(), new Flatten(), new Linear(4 * 5 * 5, 3));
        RandomizeBatchNorm(model, new Random(7), scale: 4f); // large enough that some values pass 6
        var file = new ModelFile(new ModelSpec("custom", 1f, 2, 3, 5), [0.5f, 0.5f], [0.25f, 0.25f], new Dictionary<string, string>());
        byte[] bytes = OnnxExporter.ToBytes(model, file, new OnnxExportOptions());
        using var session = Session(bytes);
        AssertSameLogits(model, file, session, 4, normalization: false, "conv-bn-relu6-linear");
        Assert.Contains("Clip", System.Text.Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public void StudentWithTransferStatisticsCarriesANote()
    {
        var spec = new ModelSpec("resnet18", 0.125f, 1, 10, 16);
        var (model, file) = RandomModel(spec, seed: 2, new Dictionary<string, string> { ["transfer"] = "gaussian" });
        string? note = OnnxExporter.BatchNormNote(model, file);
        Assert.NotNull(note);
        Assert.Contains("gaussian", note);
        using var session = Session(OnnxExporter.ToBytes(model, file, new OnnxExportOptions()));
        Assert.Equal(note, session.ModelMetadata.CustomMetadataMap[OnnxExporter.BatchNormNoteKey]);

        var recalibrated = file with { Metadata = new Dictionary<string, string>(file.Metadata) { [OnnxExporter.RecalibratedKey] = "1000 images" } };
        Assert.Null(OnnxExporter.BatchNormNote(model, recalibrated));
        var real = file with { Metadata = new Dictionary<string, string> { ["transfer"] = "real" } };
        Assert.Null(OnnxExporter.BatchNormNote(model, real));
        Assert.Null(OnnxExporter.BatchNormNote(new ModelSpec("lenet5", 1f, 1, 10, 28).Create(), file)); // no BatchNorm at all
    }

    [Theory]
    [InlineData(10)]
    [InlineData(22)]
    public void UnsupportedOpsetIsRefused(int opset)
    {
        var (model, file) = RandomModel(new ModelSpec("mlp", 1f, 1, 10, 8), seed: 3);
        var e = Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(model, file, new OnnxExportOptions(Opset: opset)));
        Assert.Contains("--opset", e.Message);
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /// <summary>Feeds the same batch to ONNX Runtime and to `infer`'s forward (running statistics) and compares.</summary>
    void AssertSameLogits(Module model, ModelFile file, InferenceSession session, int n, bool normalization, string what)
    {
        var spec = file.Spec;
        int[] shape = [n, spec.InChannels, spec.ImageSize, spec.ImageSize];
        var rng = new Random(n * 31 + spec.ImageSize);
        int plane = spec.ImageSize * spec.ImageSize;
        var pixels = new float[n * spec.InChannels * plane];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = normalization ? (float)rng.NextDouble() : (float)(rng.NextDouble() * 4 - 2);
        var normalized = normalization
            ? pixels.Select((v, i) => (v - file.NormMean[i / plane % spec.InChannels]) / file.NormStd[i / plane % spec.InChannels]).ToArray()
            : pixels;

        var (ours, ourShape) = InferCommand.Logits(model, normalized, shape, BnStatistics.Running, CpuBackend.Instance);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExporter.InputName, new DenseTensor<float>(pixels, shape))]);
        var theirs = results.Single(r => r.Name == OnnxExporter.OutputName).AsTensor<float>();
        Assert.Equal(ourShape, theirs.Dimensions.ToArray());
        double error = ParityAssert.RelativeError(theirs.ToArray(), ours);
        output.WriteLine($"ONNX {what}: {error:E2}");
        Assert.True(error <= Tolerance, $"{what}: ONNX Runtime differs from ours by {error:E2} (relative L2), tolerance {Tolerance:E0}");
    }

    /// <summary>ONNX Runtime's loader with every graph optimization on (constant folding, Conv+BatchNorm fusion, ...).</summary>
    static InferenceSession Session(byte[] model) =>
        new(model, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1 });

    /// <summary>A model with default-initialized weights and BatchNorm parameters and running statistics drawn away from 0/1, so that any mix-up shows.</summary>
    static (Module Model, ModelFile File) RandomModel(ModelSpec spec, int seed, Dictionary<string, string>? extra = null)
    {
        var model = spec.Create();
        RandomizeBatchNorm(model, new Random(seed), scale: 1f);
        float[] mean = Enumerable.Range(0, spec.InChannels).Select(c => 0.3f + 0.1f * c).ToArray();
        float[] std = Enumerable.Range(0, spec.InChannels).Select(c => 0.25f + 0.05f * c).ToArray();
        var meta = new Dictionary<string, string>(extra ?? new())
        {
            ["format"] = ModelFile.Format, ["arch"] = spec.Arch, ["width"] = spec.Width.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["in_channels"] = spec.InChannels.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["image_size"] = spec.ImageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["classes"] = spec.Classes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["norm_mean"] = string.Join(",", mean.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))),
            ["norm_std"] = string.Join(",", std.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))),
        };
        return (model, ModelFile.Describe(meta, "test"));
    }

    static void RandomizeBatchNorm(Module model, Random rng, float scale)
    {
        float Uniform(double lo, double hi) => (float)(lo + (hi - lo) * rng.NextDouble());
        foreach (var (_, module) in model.NamedModules())
        {
            if (module is not BatchNorm bn) continue;
            int c = bn.NumFeatures;
            bn.Weight!.CopyFrom(Enumerable.Range(0, c).Select(_ => scale * Uniform(0.5, 1.5)).ToArray());
            bn.Bias!.CopyFrom(Enumerable.Range(0, c).Select(_ => Uniform(-0.3, 0.3)).ToArray());
            bn.RunningMean!.CopyFrom(Enumerable.Range(0, c).Select(_ => Uniform(-0.2, 0.2)).ToArray());
            bn.RunningVar!.CopyFrom(Enumerable.Range(0, c).Select(_ => Uniform(0.5, 2.0)).ToArray());
        }
    }
}
