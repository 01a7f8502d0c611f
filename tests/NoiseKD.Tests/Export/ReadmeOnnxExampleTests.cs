using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NoiseKD.Backends.Cpu;
using NoiseKD.Cli.Commands;
using NoiseKD.Data;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Tests.Cli;
using NoiseKD.Tests.Parity;
using Xunit;

namespace NoiseKD.Tests.Export;

/// <summary>
/// The README's "from a finished distillation to a running ONNX model" lines, run as written: `noisekd
/// export` on a student file, then <see cref="Classify"/> (copied verbatim from the README, which this test
/// checks) gives the class our own forward gives for each test image.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class ReadmeOnnxExampleTests
{
    // ---- begin README example (README.md, "Running the student in a C# program") ----
    static int Classify(string onnxPath, byte[] gray28x28)
    {
        using var session = new InferenceSession(onnxPath);
        var image = new DenseTensor<float>([1, 1, 28, 28]);   // raw pixels in [0, 1]: exported with --include-normalization
        for (int i = 0; i < 784; i++) image[0, 0, i / 28, i % 28] = gray28x28[i] / 255f;
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", image)]);
        float[] logits = results[0].AsEnumerable<float>().ToArray();
        return Array.IndexOf(logits, logits.Max());
    }
    // ---- end README example ----

    [Fact]
    public void ReadmeLinesClassifyAsOurForwardDoes()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 64, 20);
        var spec = new ModelSpec("resnet18", 0.0625f, 1, 10, 28);
        var student = spec.Create();
        string model = dir.File("student.safetensors");
        ModelFile.Save(model, student, spec, Normalization.FashionMnist.Mean, Normalization.FashionMnist.Std,
                       new Dictionary<string, string> { ["dataset"] = "fashion-mnist", ["transfer"] = "gaussian" });
        var (code, _, error) = CliRunner.Run("export", "--model", model, "--out", dir.File("student.onnx"), "--include-normalization",
                                             "--recalibrate", "64", "--data-root", dir.Path);
        Assert.True(code == 0, error);

        // Ours: the re-estimated student (as export did it), normalized input, `infer`'s forward.
        var (recalibrated, file) = ModelFile.Load(model);
        var normalization = new Normalization(file.NormMean, file.NormStd);
        NoiseKD.Training.BnRecalibration.Reestimate(recalibrated, DatasetCatalog.Load("fashion-mnist", true, dir.Path), normalization, 64, CpuBackend.Instance);
        var test = DatasetCatalog.Load("fashion-mnist", false, dir.Path);
        for (int i = 0; i < test.Count; i++)
        {
            byte[] gray = test.Image(i).ToArray();
            float[] x = gray.Select(p => normalization.Apply(p, 0)).ToArray();
            var (logits, _) = InferCommand.Logits(recalibrated, x, [1, 1, 28, 28], BnStatistics.Running, CpuBackend.Instance);
            Assert.Equal(Array.IndexOf(logits, logits.Max()), Classify(dir.File("student.onnx"), gray));
        }
    }

    [Fact]
    public void ReadmeShowsTheseLines()
    {
        string root = Path.GetFullPath(Path.Combine(ParityFixture.Directory, "..", "..", ".."));
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        string source = File.ReadAllText(Path.Combine(root, "tests", "NoiseKD.Tests", "Export", "ReadmeOnnxExampleTests.cs"));
        var example = source.Split("// ---- begin README example")[1].Split("// ---- end README example")[0]
                            .Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        var shown = readme.Split('\n').Select(l => l.Trim()).ToList();
        int start = shown.IndexOf(example[0]);
        Assert.True(start >= 0, "README.md does not show the Classify example");
        Assert.Equal(example, shown.Skip(start).Take(example.Count));
    }
}
