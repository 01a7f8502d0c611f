using NoiseKD.Training;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// Named sets of PRE-DFKD options. `paper` is the public code (github.com/kuluhan/PRE-DFKD: main.py,
/// distillation.py, utils/aux.py) option for option: latent size 1000, 10 student updates per generator
/// update, the bounded JS adversarial term (<see cref="JsDisagreement"/>), its replay and memory schedule
/// (<see cref="ReplayScheme.Paper"/>), the activation term on the features its models return last
/// (<see cref="FeatureLayer.FirstLinear"/>), its FASHION student optimizer (SGD 0.1, momentum 0.9, weight
/// decay 5e-4, cosine) and L1 student loss; generator Adam 0.02 and VAE Adam 0.02 / 40 are the shared
/// defaults. `engine` is this engine's first version with the student optimizer its study used (Adam 1e-3, constant). Not part of a recipe: the budget (epochs, steps,
/// batch size; the public code runs 400 epochs of 36 steps at batch 1024), the model widths, and the image
/// size (the public code resizes to 32x32, this engine keeps the dataset's size).
/// </summary>
public static class PreDfkdRecipe
{
    public const string PaperName = "paper", EngineName = "engine";

    /// <summary>The values a recipe gives the options left null.</summary>
    public sealed record Preset(int LatentSize, int KdIterations, GeneratorObjective Generator, ReplayScheme Scheme,
                                FeatureLayer ActivationFeatures, OptimizerConfig Optimizer, KdObjective Loss);

    /// <summary>The public code's student optimizer for every dataset but MNIST.</summary>
    static readonly OptimizerConfig SgdCosine = new("sgd", 0.1f, 0.9f, 5e-4f, false, "cosine");

    /// <summary>
    /// The engine's student optimizer: Adam 1e-3, constant, no weight decay (what `study pre-dfkd` always used; at
    /// 10 x 10 steps its students rose steadily where SGD 0.1's sat at chance, and at 40 x 25 steps the pre-dfkd
    /// student passed 70% of the teacher: benchmarks/RESULTS.md).
    /// </summary>
    static readonly OptimizerConfig AdamConstant = new("adam", 1e-3f, 0.9f, 0f, false, "none");

    public static Preset Engine { get; } = new(100, 5, new GeneratorObjective(), ReplayScheme.Engine, FeatureLayer.Classifier, AdamConstant, KdObjective.Parse("l1"));

    public static Preset Paper { get; } = new(1000, 10, new GeneratorObjective(Disagreement: AdversarialTerm.Js), ReplayScheme.Paper, FeatureLayer.FirstLinear,
                                              SgdCosine, KdObjective.Parse("l1"));

    /// <summary>The recipe's name as spelled here (any case given), or a user error naming the recipes.</summary>
    public static string Normalize(string name) => Recipes.Parse(name).Name(); // one parser for the recipe names of every method

    public static Preset Get(string name) => Normalize(name) == PaperName ? Paper : Engine;

    /// <summary>The options with every recipe option that <paramref name="explicitOptions"/> leaves null taken from the recipe; given ones win.</summary>
    public static PreDfkdOptions Apply(string recipe, PreDfkdOptions explicitOptions)
    {
        var preset = Get(recipe);
        return explicitOptions with
        {
            LatentSize = explicitOptions.LatentSize ?? preset.LatentSize,
            KdIterations = explicitOptions.KdIterations ?? preset.KdIterations,
            Generator = explicitOptions.Generator ?? preset.Generator,
            Scheme = explicitOptions.Scheme ?? preset.Scheme,
            ActivationFeatures = explicitOptions.ActivationFeatures ?? preset.ActivationFeatures,
            Optimizer = explicitOptions.Optimizer ?? preset.Optimizer,
            Loss = explicitOptions.Loss ?? preset.Loss,
        };
    }
}
