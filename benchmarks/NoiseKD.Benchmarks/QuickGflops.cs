using System.Diagnostics;
using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;

namespace NoiseKD.Benchmarks;

/// <summary>
/// A fast table of GFLOP/s = flops / median time, for tuning loops where BenchmarkDotNet's full
/// statistics take too long. Each case is warmed up, then repeated until about a second has passed.
/// Arguments: [sgemm|conv|all] [batch] [layer-name filter] [layer set: cifar|fmnist|mbv2].
/// </summary>
public static class QuickGflops
{
    public static int Run(string[] args)
    {
        string what = args.Length > 0 ? args[0] : "all";
        int batch = args.Length > 1 ? int.Parse(args[1]) : 64;
        string filter = args.Length > 2 ? args[2] : "";
        string set = args.Length > 3 ? args[3] : "cifar";
        var backend = CpuBackend.Instance;
        Console.WriteLine($"threads {CpuParallel.Threads}, {DateTime.Now:yyyy-MM-dd HH:mm}");
        if (what is "all" or "sgemm") Sgemm(backend);
        if (what is "all" or "conv") Conv(backend, set, batch, filter);
        return 0;
    }

    static void Sgemm(CpuBackend backend)
    {
        Console.WriteLine("SGEMM C = A*B, n x n: GFLOP/s of the median [of the best] time (median ms)");
        foreach (int n in Shapes.SgemmSizes)
        {
            using var a = TestData.Random(backend, (long)n * n, 1);
            using var b = TestData.Random(backend, (long)n * n, 2);
            using var c = backend.Allocate((long)n * n);
            var t = Time(() => backend.Gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n));
            Console.WriteLine($"{n,-26} {Cell(2.0 * n * n * n, t),22}");
        }
    }

    /// <summary>`sgemm-json N [repeats]`: one JSON line for benchmarks/compare_torch.py.</summary>
    public static int SgemmJson(string[] args)
    {
        int n = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
        var backend = CpuBackend.Instance;
        using var a = TestData.Random(backend, (long)n * n, 1);
        using var b = TestData.Random(backend, (long)n * n, 2);
        using var c = backend.Allocate((long)n * n);
        var t = Time(() => backend.Gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n));
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, double>
        {
            ["ms_per_step"] = t.Median * 1e3, ["gflops"] = 2.0 * n * n * n / t.Median / 1e9, ["peak_mb"] = process.PeakWorkingSet64 / 1048576.0,
        }));
        return 0;
    }

    static void Conv(CpuBackend backend, string set, int batch, string filter)
    {
        Console.WriteLine($"conv ({set}), batch {batch}: GFLOP/s of the median [of the best] time (median ms)");
        Console.WriteLine($"{"layer",-26} {"forward",22} {"backward data",22} {"backward weight",22}");
        foreach (var (name, g) in Shapes.Conv(set, batch).Where(c => c.Name.Contains(filter)))
        {
            using var x = TestData.Random(backend, g.InputLength, 1);
            using var w = TestData.Random(backend, g.WeightLength, 2);
            using var y = TestData.Random(backend, g.OutputLength, 3);
            var f = Time(() => backend.Conv2dForward(g, x, w, y));
            var d = Time(() => backend.Conv2dBackwardData(g, y, w, x, false));
            var wt = Time(() => backend.Conv2dBackwardWeight(g, x, y, w, false));
            Console.WriteLine($"{name,-26} {Cell(g.Flops, f),22} {Cell(g.Flops, d),22} {Cell(g.Flops, wt),22}");
        }
    }

    // The best time shows what the code can do when the shared machine leaves it alone.
    static string Cell(double flops, (double Median, double Best) t)
        => $"{flops / t.Median / 1e9,5:F1} [{flops / t.Best / 1e9,5:F1}] ({t.Median * 1e3,6:F2})";

    static (double Median, double Best) Time(Action action)
    {
        for (int i = 0; i < 3; i++) action();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || (total.Elapsed.TotalSeconds < 1.0 && times.Count < 1000))
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        times.Sort();
        return (times[times.Count / 2], times[0]);
    }
}
