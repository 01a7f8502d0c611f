using System.Globalization;
using NoiseKD.Nn;
using NoiseKD.Training;

namespace NoiseKD.Distillation;

/// <summary>
/// The teacher's BatchNorm statistics during distillation: all current (the paper's fix), all running
/// (the failing baseline), or partial:P — P% of the BN layers on running statistics, the rest on current
/// statistics, chosen from the input side or from the output side (the paper's Table 3), or by shift: the
/// layers whose running statistics best match what noise produces go on running statistics first
/// (<see cref="BnProbe.RankByShift"/>; data-free). The teacher's running buffers never change.
/// </summary>
public sealed record TeacherBn(double RunningPercent, string From = "input")
{
    public bool NeedsShiftRanking => From == "shift" && RunningPercent is > 0 and < 100;

    public static TeacherBn Parse(string value, string partialFrom)
    {
        string from = partialFrom.ToLowerInvariant();
        if (from is not ("input" or "output" or "shift")) throw new ArgumentException($"--partial-from '{partialFrom}' must be input, output or shift");
        var v = value.ToLowerInvariant();
        if (v is "current" or "cs") return new TeacherBn(0, from);
        if (v is "running" or "rs") return new TeacherBn(100, from);
        if (v.StartsWith("partial:", StringComparison.Ordinal)
            && double.TryParse(v["partial:".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && p is >= 0 and <= 100)
            return new TeacherBn(p, from);
        throw new ArgumentException($"--teacher-bn '{value}' must be current, running or partial:P with P in [0, 100]");
    }

    /// <summary>
    /// Sets every BN layer of the teacher and freezes its running buffers. <paramref name="shiftOrder"/> lists
    /// layer indices (forward order) from least to most shifted; required when ordering by shift.
    /// </summary>
    public int Apply(Module teacher, IReadOnlyList<int>? shiftOrder = null)
    {
        var layers = BnControl.Layers(teacher);
        int running = (int)Math.Round(RunningPercent / 100.0 * layers.Count, MidpointRounding.AwayFromZero);
        var rank = new int[layers.Count];
        for (int i = 0; i < layers.Count; i++) rank[i] = From == "output" ? layers.Count - 1 - i : i;
        if (NeedsShiftRanking)
        {
            if (shiftOrder is null || shiftOrder.Count != layers.Count) throw new InvalidOperationException("ordering by shift needs the shift ranking of every BN layer");
            for (int r = 0; r < shiftOrder.Count; r++) rank[shiftOrder[r]] = r;
        }
        for (int i = 0; i < layers.Count; i++)
        {
            layers[i].Statistics = rank[i] < running ? BnStatistics.Running : BnStatistics.Current;
            layers[i].UpdateRunningStatistics = false;
        }
        return running;
    }

    public string Describe() => RunningPercent switch
    {
        0 => "current statistics (CS)",
        100 => "running statistics (RS)",
        _ => From == "shift" ? $"{RunningPercent}% of BN layers on running statistics, least-shifted first"
                             : $"{RunningPercent}% of BN layers on running statistics, from the {From} side",
    };
}
