using NoiseKD.Nn;

namespace NoiseKD.Training;

/// <summary>Sets the statistics source of every BatchNorm layer of a model at once, and restores it.</summary>
public static class BnControl
{
    public static IReadOnlyList<BatchNorm> Layers(Module model) =>
        model.NamedModules().Select(m => m.Module).OfType<BatchNorm>().ToList();

    /// <summary>
    /// Forces <paramref name="statistics"/> on every layer (null: PyTorch's train/eval rule) and keeps the
    /// running buffers frozen unless <paramref name="updateRunning"/>. Dispose the result to restore.
    /// </summary>
    public static IDisposable Override(Module model, BnStatistics? statistics, bool? updateRunning = false)
    {
        var layers = Layers(model);
        var saved = layers.Select(l => (l.Statistics, l.UpdateRunningStatistics)).ToArray();
        foreach (var layer in layers)
        {
            layer.Statistics = statistics;
            layer.UpdateRunningStatistics = updateRunning;
        }
        return new Disposable(() =>
        {
            for (int i = 0; i < layers.Count; i++) (layers[i].Statistics, layers[i].UpdateRunningStatistics) = saved[i];
        });
    }

    public static BnStatistics Parse(string value) => value.ToLowerInvariant() switch
    {
        "running" or "rs" => BnStatistics.Running,
        "current" or "cs" => BnStatistics.Current,
        _ => throw new ArgumentException($"BatchNorm statistics '{value}' must be 'running' or 'current'"),
    };
}
