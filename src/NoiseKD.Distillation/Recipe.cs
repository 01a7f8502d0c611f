using NoiseKD.Training;

namespace NoiseKD.Distillation;

/// <summary>
/// Which settings fill the options a command line leaves unset: <see cref="Paper"/>, the method's public code
/// option for option, or <see cref="Engine"/>, this engine's own settings. An explicit option always wins.
/// </summary>
public enum Recipe { Paper, Engine }

public static class Recipes
{
    public static Recipe Parse(string text) => text.ToLowerInvariant() switch
    {
        "paper" => Recipe.Paper,
        "engine" => Recipe.Engine,
        _ => throw new ArgumentException($"--recipe '{text}' must be paper or engine"),
    };

    /// <summary>
    /// The recipe `distill` and `quickstart` use when --recipe is not given (chosen from the measurements in
    /// benchmarks/RESULTS.md: at equal noise images it gives the better ResNet students).
    /// </summary>
    public const string DefaultName = "engine";

    /// <summary>The recipe `study noise-kd` uses when --recipe is not given: the study reproduces the paper's tables, so the paper's recipe.</summary>
    public const string StudyDefaultName = "paper";

    public static string Name(this Recipe recipe) => recipe == Recipe.Paper ? "paper" : "engine";
}

/// <summary>
/// Noise KD's training recipe: how the student learns from the transfer batches (the budget, epochs x steps,
/// is not part of it).
/// <para><see cref="Recipe.Paper"/> is Raikwar &amp; Mishra's public code (Piyush-555/GaussianDistillation,
/// <c>distill_gaussian.py</c> and <c>conventions.py</c>): Adam at lr 1e-3 without weight decay,
/// ReduceLROnPlateau (factor 0.1, patience 10) stepped once per epoch on the student's test-split cross-entropy,
/// batches of 256, soft-target cross-entropy at T = 1, and the student evaluated on current statistics in test
/// batches of 256 (it stays in train mode there).</para>
/// <para><see cref="Recipe.Engine"/> is this engine's earlier default: SGD at lr 0.1, momentum 0.9, weight decay
/// 5e-4, cosine annealing over the run, batches of 128, soft-target cross-entropy at T = 1, evaluation batches of 500.</para>
/// </summary>
public sealed record NoiseRecipe(Recipe Name, OptimizerConfig Optimizer, int BatchSize, int EvalBatchSize, KdObjective Loss)
{
    public static NoiseRecipe For(Recipe recipe) => recipe switch
    {
        Recipe.Paper => new(recipe, new OptimizerConfig("adam", 1e-3f, 0.9f, 0f, false, "plateau:10"), 256, 256, KdObjective.Parse("soft-ce")),
        _ => new(recipe, new OptimizerConfig("sgd", 0.1f, 0.9f, 5e-4f, false, "cosine"), 128, 500, KdObjective.Parse("soft-ce")),
    };

    /// <summary>The recipe's optimizer, loss and evaluation batch on <paramref name="options"/> (its batch size is the caller's: studies vary it).</summary>
    public DistillOptions Apply(DistillOptions options) => options with { Optimizer = Optimizer, Loss = Loss, EvalBatchSize = EvalBatchSize };

    /// <summary>One line for logs and reports, e.g. "paper recipe: adam lr 0.001, weight decay 0, schedule plateau:10, batch 256, soft-ce".</summary>
    public string Describe() => $"{Name.Name()} recipe: {Optimizer.Describe()}, batch {BatchSize}, {Loss.Describe()}";
}
