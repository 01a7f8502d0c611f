namespace NoiseKD.Backends.Cpu;

/// <summary>
/// Splits loops over the cores. Work is handed out as contiguous chunks (never interleaved
/// elements), so two threads do not write the same cache line.
/// </summary>
public static class CpuParallel
{
    static int _threads = Environment.ProcessorCount;

    /// <summary>Worker count used by every CPU kernel (defaults to all cores).</summary>
    public static int Threads
    {
        get => _threads;
        set => _threads = Math.Max(1, value);
    }

    /// <summary>Runs body(i) for i in [0, count), in parallel when the work is large enough.</summary>
    /// <param name="workPerItem">a rough cost of one item in flops, to skip threading for tiny loops</param>
    public static void For(int count, double workPerItem, Action<int> body)
    {
        if (count <= 0) return;
        if (_threads == 1 || count == 1 || count * workPerItem < 32_768)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = _threads }, body);
    }

    /// <summary>Runs body(start, end) over [0, count) split into at most Threads contiguous ranges.</summary>
    public static void ForRange(long count, double workPerItem, Action<long, long> body)
    {
        if (count <= 0) return;
        int parts = (int)Math.Min(_threads, count);
        if (parts <= 1 || count * workPerItem < 32_768)
        {
            body(0, count);
            return;
        }
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = _threads }, p =>
        {
            long start = count * p / parts, end = count * (p + 1) / parts;
            body(start, end);
        });
    }
}
