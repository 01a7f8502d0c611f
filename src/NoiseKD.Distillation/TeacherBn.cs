using System.Globalization;
using NoiseKD.Nn;
using NoiseKD.Training;

namespace NoiseKD.Distillation;

/// <summary>
/// The teacher's BatchNorm statistics during distillation: all current (the paper's fix), all running
/// (the failing baseline), or partial:P — P% of the BN layers on running statistics, counted from the
/// input side or from the output side (the paper's Table 3), the rest on current statistics.
/// The teacher's running buffers never change.
/// </summary>
public sealed record TeacherBn(double RunningPercent, bool FromInput = true)
{
    public static TeacherBn Parse(string value, string partialFrom)
    {
        bool fromInput = partialFrom.ToLowerInvariant() switch
        {
            "input" => true,
            "output" => false,
            _ => throw new ArgumentException($"--partial-from '{partialFrom}' must be input or output"),
        };
        var v = value.ToLowerInvariant();
        if (v is "current" or "cs") return new TeacherBn(0, fromInput);
        if (v is "running" or "rs") return new TeacherBn(100, fromInput);
        if (v.StartsWith("partial:", StringComparison.Ordinal)
            && double.TryParse(v["partial:".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && p is >= 0 and <= 100)
            return new TeacherBn(p, fromInput);
        throw new ArgumentException($"--teacher-bn '{value}' must be current, running or partial:P with P in [0, 100]");
    }

    /// <summary>Sets every BN layer of the teacher (in forward order) and freezes its running buffers.</summary>
    public int Apply(Module teacher)
    {
        var layers = BnControl.Layers(teacher);
        int running = (int)Math.Round(RunningPercent / 100.0 * layers.Count, MidpointRounding.AwayFromZero);
        for (int i = 0; i < layers.Count; i++)
        {
            int rank = FromInput ? i : layers.Count - 1 - i;
            layers[i].Statistics = rank < running ? BnStatistics.Running : BnStatistics.Current;
            layers[i].UpdateRunningStatistics = false;
        }
        return running;
    }

    public string Describe() => RunningPercent switch
    {
        0 => "current statistics (CS)",
        100 => "running statistics (RS)",
        _ => $"{RunningPercent}% of BN layers on running statistics, from the {(FromInput ? "input" : "output")} side",
    };
}
