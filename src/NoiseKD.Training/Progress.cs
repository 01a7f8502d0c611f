namespace NoiseKD.Training;

/// <summary>What a long run reports while it works (the CLI draws it with Spectre.Console; tests ignore it).</summary>
public interface IProgress
{
    void EpochStarted(int epoch, int epochs, int batches);
    void BatchDone(int batch, double loss, double accuracy, double imagesPerSecond);
    void EpochDone(IReadOnlyDictionary<string, object> metrics);
    void Message(string text);
}

public sealed class SilentProgress : IProgress
{
    public static readonly SilentProgress Instance = new();
    public void EpochStarted(int epoch, int epochs, int batches) { }
    public void BatchDone(int batch, double loss, double accuracy, double imagesPerSecond) { }
    public void EpochDone(IReadOnlyDictionary<string, object> metrics) { }
    public void Message(string text) { }
}
