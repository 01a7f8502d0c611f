using System.Diagnostics;

namespace NoiseKD.Autograd;

/// <summary>
/// Opt-in wall-clock accounting per operation: forward time of every leaf module (by type) and backward
/// time of every recorded op (by name). Off by default (no cost); `noisekd bench --profile` turns it on.
/// Times are synchronous on the CPU backend; on a queued device they measure launch cost unless synchronized.
/// </summary>
public static class OpProfiler
{
    static readonly Dictionary<string, (double Ms, long Calls)> Totals = new();

    public static bool Enabled { get; set; }

    public static void Add(string name, long startTimestamp)
    {
        double ms = Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;
        lock (Totals)
        {
            Totals.TryGetValue(name, out var t);
            Totals[name] = (t.Ms + ms, t.Calls + 1);
        }
    }

    public static IReadOnlyList<(string Name, double Ms, long Calls)> Snapshot()
    {
        lock (Totals) return Totals.Select(kv => (kv.Key, kv.Value.Ms, kv.Value.Calls)).OrderByDescending(t => t.Ms).ToList();
    }

    public static void Reset()
    {
        lock (Totals) Totals.Clear();
    }
}
