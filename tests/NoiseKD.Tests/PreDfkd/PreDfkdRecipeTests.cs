using NoiseKD.Distillation;
using NoiseKD.Distillation.PreDfkd;
using NoiseKD.Models;
using NoiseKD.Tensors;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.PreDfkd;

/// <summary>The named recipes, the command-line choices, the activation features and the tuned replay's start.</summary>
public class PreDfkdRecipeTests
{
    static PreDfkdOptions Given(int? latentSize = null) => new("teacher.safetensors", "lenet5-half", "out", ReplayMethod.Parse("pre-dfkd"), LatentSize: latentSize);

    [Fact]
    public void PaperRecipeIsThePublicCodeAndGivenOptionsWin()
    {
        var paper = PreDfkdRecipe.Apply("paper", Given());
        Assert.Equal(1000, paper.LatentSizeOrDefault);
        Assert.Equal(10, paper.KdIterationsOrDefault);
        Assert.Equal(AdversarialTerm.Js, paper.GeneratorOrDefault.Disagreement);
        Assert.Equal(ReplayScheme.Paper, paper.SchemeOrDefault);
        Assert.Equal(FeatureLayer.FirstLinear, paper.ActivationFeaturesOrDefault);
        Assert.Equal(new OptimizerConfig("sgd", 0.1f, 0.9f, 5e-4f, false, "cosine"), paper.OptimizerOrDefault);
        Assert.Equal("l1", paper.LossOrDefault.Kind);
        Assert.Equal(128 / 8, paper.Replay);
        Assert.Equal(4, paper.MemoryUpdatesPerStep);
        Assert.Equal(0.02f / 40, paper.VaeLrOrDefault);
        Assert.Equal(8, PreDfkdRecipe.Apply("PAPER", Given(latentSize: 8)).LatentSizeOrDefault);

        var engine = PreDfkdRecipe.Apply("engine", Given());
        var defaults = Given();
        Assert.Equal(defaults.Fingerprint(), engine.Fingerprint());
        Assert.Equal((100, 5, 64, 1), (engine.LatentSizeOrDefault, engine.KdIterationsOrDefault, engine.Replay, engine.MemoryUpdatesPerStep));
        Assert.Equal(AdversarialTerm.Loss, engine.GeneratorOrDefault.Disagreement);
        // One meaning of `engine` for `distill --method pre-dfkd` and `study pre-dfkd`: Adam 1e-3, constant, no weight decay.
        Assert.Equal(new OptimizerConfig("adam", 1e-3f, 0.9f, 0f, false, "none"), engine.OptimizerOrDefault);
        Assert.NotEqual(engine.Fingerprint(), paper.Fingerprint());
        Assert.NotEqual(engine.Fingerprint(), (engine with { ActivationFeatures = FeatureLayer.FirstLinear }).Fingerprint());
        Assert.NotEqual(engine.Fingerprint(), (engine with { Scheme = ReplayScheme.Paper }).Fingerprint());
        Assert.Throws<ArgumentException>(() => PreDfkdRecipe.Apply("dafl", Given()));
    }

    [Fact]
    public void ChoicesParseAndNameTheValidOnes()
    {
        Assert.Equal(AdversarialTerm.Js, PreDfkdChoices.Adversarial("JS"));
        Assert.Equal(ReplayScheme.Paper, PreDfkdChoices.Scheme("paper"));
        Assert.Equal(FeatureLayer.FirstLinear, PreDfkdChoices.Features("first-linear"));
        var e = Assert.Throws<ArgumentException>(() => PreDfkdChoices.Adversarial("kl"));
        Assert.Equal("--adversarial 'kl' must be loss or js", e.Message);
        Assert.Throws<ArgumentException>(() => PreDfkdChoices.Scheme("buffer"));
        Assert.Throws<ArgumentException>(() => PreDfkdChoices.Features("conv3"));
        // The paper scheme's latent tuning takes a variance over the replayed samples: one is not enough.
        Assert.Throws<ArgumentException>(() => (Given() with { Scheme = ReplayScheme.Paper, NovelSamples = 8 }).Validate());
    }

    /// <summary>LeNet-5's first Linear layer reads conv3's 120 features (the public code's `feature`); its classifier reads 84.</summary>
    [Theory]
    [InlineData(FeatureLayer.FirstLinear, 120)]
    [InlineData(FeatureLayer.Classifier, 84)]
    public void ActivationFeaturesOfLeNet5(FeatureLayer layer, int width)
    {
        using var scope = new TensorScope();
        var teacher = new ModelSpec("lenet5", 1f, 1, 10, 28).Create();
        using var features = new TeacherFeatures(teacher, layer);
        teacher.Forward(Tensor.Zeros([3, 1, 28, 28]));
        Assert.Equal([3, width], features.Last.Shape);
    }

    /// <summary>The public code replays its decoder from the first student update on; the engine waits for the first memory update.</summary>
    [Fact]
    public void TunedReplayStartsBeforeTheFirstMemoryUpdate()
    {
        using var scope = new TensorScope();
        Generator.ManualSeed(2);
        var teacher = new ModelSpec("lenet5", 1f, 1, 10, 28).Create();
        teacher.Eval();
        VaeMemory Memory(TunedReplay? tuned) => new(new ConvVae(8, 1, 28, 0.125f), teacher, 1e-3f, 2, 1e-5f, new Generator(5), tuned);
        Assert.Null(Memory(null).Sample(4));
        var tuned = Memory(new TunedReplay(new GeneratorObjective(), 0.02f, 4)).Sample(4);
        Assert.Equal([4, 1, 28, 28], tuned!.Shape);
        Assert.All(tuned.ToArray(), v => Assert.True(float.IsFinite(v)));
    }
}
