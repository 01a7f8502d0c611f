using NoiseKD.Models;
using NoiseKD.Serialization;
using NoiseKD.Tests.Parity;
using Xunit;

namespace NoiseKD.Tests.Cli;

[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>
/// `noisekd import` and `noisekd infer` through Program.Main: a PyTorch state_dict from the parity
/// fixtures becomes a model file whose logits equal PyTorch's; user errors exit 2 with one sentence.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class ImportInferCliTests
{
    public static TheoryData<string> Cases => ParityFixture.Names("model_");

    [Theory]
    [MemberData(nameof(Cases))]
    public void ImportedPytorchWeightsGivePytorchLogits(string name)
    {
        var f = ParityFixture.Load(name);
        using var dir = new TempDir();
        var (code, _, error) = Run([.. ImportArgs(f, dir), "--prefix", "state."]);
        Assert.True(code == 0, error);

        foreach (var (bn, expected) in new[] { ("running", "expected.logits_running"), ("current", "expected.logits_current") })
        {
            (code, _, error) = Run("infer", "--model", dir.File("model.safetensors"), "--input", ParityFixture.PathOf(name),
                                   "--bn", bn, "--output", dir.File($"{bn}.safetensors"));
            Assert.True(code == 0, error);
            var logits = Safetensors.Read(dir.File($"{bn}.safetensors")).Tensors.Single();
            Assert.Equal("logits", logits.Name);
            Assert.Equal(f[expected].Shape, logits.Shape);
            Assert.True(ParityAssert.RelativeError(logits.Data, f[expected].Data) <= ParityAssert.Forward, $"{name} {bn}");
        }
    }

    [Fact]
    public void PlainStateDictImportsWithDatasetNormalization()
    {
        var f = ParityFixture.Load("model_resnet34");
        using var dir = new TempDir();
        Safetensors.Write(dir.File("sd.safetensors"), f.WithPrefix("state.").Values); // as torch.save(model.state_dict()) converted
        var (code, output, error) = Run("import", "--arch", "resnet34", "--width", "0.125", "--in-channels", "1", "--from", dir.File("sd.safetensors"),
                                        "--out", dir.File("m.safetensors"));
        Assert.True(code == 0, error);
        Assert.Contains("resnet34", output);
        var (_, file) = ModelFile.Load(dir.File("m.safetensors"));
        Assert.Equal(new ModelSpec("resnet34", 0.125f, 1, 10, 28), file.Spec); // 1 channel: fashion-mnist, 28x28
        Assert.Equal("fashion-mnist", file.Metadata["dataset"]);
        Assert.Equal([0.2860f], file.NormMean);
    }

    [Fact]
    public void InputChannelsAndClassesComeFromTheWeightsAndAWrapperPrefixIsSuggested()
    {
        var f = ParityFixture.Load("model_resnet34"); // 1 input channel, 10 classes
        using var dir = new TempDir();
        Safetensors.Write(dir.File("sd.safetensors"), f.WithPrefix("state.").Select(kv => kv.Value with { Name = "module." + kv.Key })); // as DataParallel saves it
        var (code, _, error) = Run("import", "--arch", "resnet34", "--width", "0.125", "--from", dir.File("sd.safetensors"), "--out", dir.File("m.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("every tensor name starts with 'module.': pass --prefix module.", error);
        Assert.Single(error.Trim().Split('\n'));

        (code, _, error) = Run("import", "--arch", "resnet34", "--from", dir.File("sd.safetensors"), "--prefix", "module.", "--out", dir.File("m.safetensors"));
        Assert.True(code == 0, error);
        var (_, file) = ModelFile.Load(dir.File("m.safetensors"));
        Assert.Equal(new ModelSpec("resnet34", 0.125f, 1, 10, 28), file.Spec); // no --width, --in-channels: read from conv1.weight [8, 1, 3, 3]
    }

    [Fact]
    public void TorchvisionsImageNetStemIsNamed()
    {
        var f = ParityFixture.Load("model_resnet18");
        using var dir = new TempDir();
        var arrays = f.WithPrefix("state.").Values.Select(a => a.Name == "conv1.weight" ? a with { Shape = [a.Shape[0], a.Shape[1], 7, 7], Data = new float[a.Shape[0] * a.Shape[1] * 49] } : a);
        Safetensors.Write(dir.File("sd.safetensors"), arrays);
        var (code, _, error) = Run("import", "--arch", "resnet18", "--width", "0.25", "--from", dir.File("sd.safetensors"), "--out", dir.File("m.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("its first convolution is 7x7, as in torchvision's ImageNet ResNet", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void ExplicitNormalizationIsStored()
    {
        var f = ParityFixture.Load("model_wrn-16-2");
        using var dir = new TempDir();
        var (code, _, error) = Run([.. ImportArgs(f, dir), "--prefix", "state.", "--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25"]);
        Assert.True(code == 0, error);
        var (_, file) = ModelFile.Load(dir.File("model.safetensors"));
        Assert.Equal([0.5f, 0.5f, 0.5f], file.NormMean);
        Assert.Equal([0.25f, 0.25f, 0.25f], file.NormStd);
    }

    [Fact]
    public void WeightsOfAnotherShapeNameTheTensorsAndExit2()
    {
        var f = ParityFixture.Load("model_resnet18");
        using var dir = new TempDir();
        var (code, _, error) = Run("import", "--arch", "resnet18", "--width", "0.25", "--image-size", "16", "--from", ParityFixture.PathOf(f.Name),
                                   "--prefix", "state.", "--out", dir.File("m.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("'conv1.weight' has shape [8, 3, 3, 3], the model expects [16, 3, 3, 3]", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(File.Exists(dir.File("m.safetensors")));

        // Without the prefix every fixture tensor is unexpected and every model tensor missing.
        (code, _, error) = Run(ImportArgs(f, dir));
        Assert.Equal(2, code);
        Assert.Contains("missing 'conv1.weight'", error);
        Assert.Contains("unexpected 'state.conv1.weight'", error);
    }

    [Fact]
    public void InputOfTheWrongShapeIsOneSentenceAndExit2()
    {
        var f = ParityFixture.Load("model_resnet18");
        using var dir = new TempDir();
        Assert.Equal(0, Run([.. ImportArgs(f, dir), "--prefix", "state."]).Code);
        // model_resnet34's input is [8, 1, 16, 16]; resnet18 here takes 3 channels.
        var (code, _, error) = Run("infer", "--model", dir.File("model.safetensors"), "--input", ParityFixture.PathOf("model_resnet34"),
                                   "--output", dir.File("y.safetensors"));
        Assert.Equal(2, code);
        Assert.Equal("noisekd: error: input [8, 1, 16, 16] does not fit resnet18, which takes [N, 3, 16, 16]", error.Trim());
        Assert.False(File.Exists(dir.File("y.safetensors")));
    }

    [Theory]
    [InlineData("infer", "--model", "/nonexistent/m.safetensors", "--input", "x", "--output", "y")]
    [InlineData("import", "--arch", "resnet18", "--from", "/nonexistent/sd.safetensors", "--out", "m")]
    [InlineData("import", "--arch", "resnet19", "--from", "sd", "--out", "m")]
    [InlineData("import", "--arch", "lenet5", "--in-channels", "1", "--mean", "0.1,0.2", "--std", "1,1", "--from", "sd", "--out", "m")]
    [InlineData("import", "--arch", "lenet5", "--mean", "0.1", "--from", "sd", "--out", "m")]
    [InlineData("infer", "--model", "m", "--input", "x", "--output", "y", "--bn", "sometimes")]
    public void UserErrorsExit2WithOneSentence(params string[] args)
    {
        var (code, _, error) = Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("noisekd: error: ", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    static string[] ImportArgs(ParityFixture f, TempDir dir) =>
        ["import", "--arch", f.Text("arch"), "--width", f.Text("width"), "--in-channels", f.Text("in_channels"), "--classes", f.Text("classes"),
         "--image-size", f.Text("image_size"), "--from", ParityFixture.PathOf(f.Name), "--out", dir.File("model.safetensors")];

    static (int Code, string Output, string Error) Run(params string[] args) => CliRunner.Run(args);
}
