using System.Diagnostics;
using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;

namespace NoiseKD.Benchmarks;

/// <summary>
/// A fast table of GFLOP/s = flops / median time, for tuning loops where BenchmarkDotNet's full
/// statistics take too long. Each case is warmed up, then repeated until about a second has passed.
/// Arguments: [sgemm|conv|all] [batch] [layer-name filter].
/// </summary>
public static class QuickGflops
{
    public static int Run(string[] args)
    {
        string what = args.Length > 0 ? args[0] : "all";
        int batch = args.Length > 1 ? int.Parse(args[1]) : 64;
        string filter = args.Length > 2 ? args[2] : "";
        var backend = CpuBackend.Instance;
        Console.WriteLine($"threads {CpuParallel.Threads}, {DateTime.Now:yyyy-MM-dd HH:mm}");
        if (what is "all" or "sgemm") Sgemm(backend);
        if (what is "all" or "conv") Conv(backend, batch, filter);
        return 0;
    }

    static void Sgemm(CpuBackend backend)
    {
        Console.WriteLine($"{"SGEMM n",-26} {"median ms",10} {"GFLOP/s",8}");
        foreach (int n in Shapes.SgemmSizes)
        {
            using var a = TestData.Random(backend, (long)n * n, 1);
            using var b = TestData.Random(backend, (long)n * n, 2);
            using var c = backend.Allocate((long)n * n);
            double t = MedianSeconds(() => backend.Gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n));
            Console.WriteLine($"{n,-26} {t * 1e3,10:F3} {2.0 * n * n * n / t / 1e9,8:F1}");
        }
    }

    static void Conv(CpuBackend backend, int batch, string filter)
    {
        Console.WriteLine($"conv, batch {batch}: GFLOP/s (median ms)");
        Console.WriteLine($"{"layer",-26} {"forward",18} {"backward data",18} {"backward weight",18}");
        foreach (var (name, g) in Shapes.Conv(batch).Where(c => c.Name.Contains(filter)))
        {
            using var x = TestData.Random(backend, g.InputLength, 1);
            using var w = TestData.Random(backend, g.WeightLength, 2);
            using var y = TestData.Random(backend, g.OutputLength, 3);
            double f = MedianSeconds(() => backend.Conv2dForward(g, x, w, y));
            double d = MedianSeconds(() => backend.Conv2dBackwardData(g, y, w, x, false));
            double wt = MedianSeconds(() => backend.Conv2dBackwardWeight(g, x, y, w, false));
            Console.WriteLine($"{name,-26} {Cell(g.Flops, f),18} {Cell(g.Flops, d),18} {Cell(g.Flops, wt),18}");
        }
    }

    static string Cell(double flops, double seconds) => $"{flops / seconds / 1e9,7:F1} ({seconds * 1e3,7:F2})";

    static double MedianSeconds(Action action)
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
        return times[times.Count / 2];
    }
}
