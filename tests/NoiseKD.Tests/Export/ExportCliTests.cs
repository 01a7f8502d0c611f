using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NoiseKD.Data;
using NoiseKD.Export;
using NoiseKD.Models;
using NoiseKD.Serialization;
using NoiseKD.Tests.Cli;
using NoiseKD.Tests.Parity;
using Xunit;

namespace NoiseKD.Tests.Export;

/// <summary>
/// `noisekd export` through Program.Main: the file ONNX Runtime reads gives `noisekd infer`'s logits on a
/// batch of one; the BatchNorm note of a noise-distilled student goes to stderr and disappears once
/// --recalibrate re-estimated the statistics; `eval` and `infer` take batch 1; bad options exit 2.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class ExportCliTests
{
    [Fact]
    public void ExportedStudentRunsInOnnxRuntimeLikeInfer()
    {
        using var dir = new TempDir();
        string model = WriteStudent(dir);
        var (code, output, error) = CliRunner.Run("export", "--model", model, "--format", "onnx", "--out", dir.File("student.onnx"), "--include-normalization");
        Assert.True(code == 0, error);
        Assert.Contains("student.onnx", output);
        Assert.Contains("note:", error);           // its running statistics come from the 'gaussian' transfer set
        Assert.Contains("gaussian", error);

        // One image, raw pixels for ONNX Runtime, normalized pixels for `infer` (which takes them as is).
        var rng = new Random(5);
        float[] raw = Enumerable.Range(0, 784).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] normalized = raw.Select(v => (v - Normalization.FashionMnist.Mean[0]) / Normalization.FashionMnist.Std[0]).ToArray();
        Safetensors.Write(dir.File("x.safetensors"), [new NamedArray("input", [1, 1, 28, 28], normalized)]);
        (code, _, error) = CliRunner.Run("infer", "--model", model, "--input", dir.File("x.safetensors"), "--output", dir.File("y.safetensors"));
        Assert.True(code == 0, error);
        float[] ours = Safetensors.Read(dir.File("y.safetensors")).Tensors.Single().Data;

        using var session = new InferenceSession(dir.File("student.onnx"), new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(raw, [1, 1, 28, 28]))]);
        float[] theirs = results.Single().AsTensor<float>().ToArray();
        Assert.Equal(10, theirs.Length);
        double relative = ParityAssert.RelativeError(theirs, ours);
        Assert.True(relative <= 1e-5, $"ONNX Runtime vs infer: {relative:E2}");
    }

    [Fact]
    public void RecalibratedExportHasNoNoteAndSaysFromWhat()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 20);
        string model = WriteStudent(dir);
        var (code, _, error) = CliRunner.Run("export", "--model", model, "--out", dir.File("s.onnx"), "--recalibrate", "40", "--data-root", dir.Path);
        Assert.True(code == 0, error);
        Assert.DoesNotContain("note:", error);
        using var session = new InferenceSession(dir.File("s.onnx"));
        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("40 fashion-mnist training images", meta[OnnxExporter.RecalibratedKey]);
        Assert.False(meta.ContainsKey(OnnxExporter.BatchNormNoteKey));
        // The model file itself is untouched: only the exported graph carries the re-estimated statistics.
        Assert.False(ModelFile.Load(model).File.Metadata.ContainsKey(OnnxExporter.RecalibratedKey));
    }

    [Fact]
    public void EvalTakesBatchOne()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 8, 5);
        string model = WriteStudent(dir);
        var (code, output, error) = CliRunner.Run("eval", "--model", model, "--batch-size", "1", "--json", "--data-root", dir.Path);
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output.Trim());
        Assert.Equal(5, json.RootElement.GetProperty("samples").GetInt32());
    }

    public static TheoryData<string[], string> BadOptions => new()
    {
        { ["--format", "tflite"], "--format 'tflite'" },
        { ["--batch", "0"], "--batch '0'" },
        { ["--batch", "many"], "--batch 'many'" },
        { ["--opset", "9"], "--opset 9" },
        { ["--recalibrate", "-1"], "--recalibrate -1" },
        { ["--recalibrate", "1"], "--recalibrate 1" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadOptionsAreOneSentence(string[] options, string expected)
    {
        using var dir = new TempDir();
        string model = WriteStudent(dir);
        var (code, _, error) = CliRunner.Run(["export", "--model", model, "--out", dir.File("s.onnx"), .. options]);
        Assert.Equal(2, code);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(File.Exists(dir.File("s.onnx")));
    }

    /// <summary>A small Fashion-MNIST student as `distill` writes it (metadata: dataset, transfer).</summary>
    static string WriteStudent(TempDir dir)
    {
        var spec = new ModelSpec("resnet18", 0.0625f, 1, 10, 28);
        var model = spec.Create();
        string path = dir.File("student.safetensors");
        ModelFile.Save(path, model, spec, Normalization.FashionMnist.Mean, Normalization.FashionMnist.Std,
                       new Dictionary<string, string> { ["dataset"] = "fashion-mnist", ["transfer"] = "gaussian" });
        return path;
    }
}
