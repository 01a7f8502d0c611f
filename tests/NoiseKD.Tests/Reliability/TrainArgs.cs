namespace NoiseKD.Tests.Reliability;

/// <summary>`noisekd train` arguments for a small run on <see cref="SyntheticFashionMnist"/> data (constant learning rate, so runs of different lengths agree epoch by epoch).</summary>
public static class TrainArgs
{
    public static string[] For(string dataRoot, string outDir, int epochs, bool resume = false,
                               string model = "resnet18", string width = "0.0625", string batch = "32") =>
        ["train", "--arch", model, "--width", width, "--epochs", epochs.ToString(), "--batch-size", batch, "--schedule", "none",
         "--lr", "0.05", "--data-root", dataRoot, "--out", outDir, .. resume ? new[] { "--resume" } : []];
}
