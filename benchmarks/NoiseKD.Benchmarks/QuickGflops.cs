using System.Diagnostics;
using NoiseKD.Backends;
using NoiseKD.Backends.Cpu;

namespace NoiseKD.Benchmarks;

/// <summary>
/// A fast table of throughput = work / median time, for tuning loops where BenchmarkDotNet's full
/// statistics take too long. Each case is warmed up, then repeated until about a second has passed.
/// Arguments: [sgemm|conv|bn|elementwise|all] [batch] [layer-name filter] [layer set: cifar|fmnist|mbv2].
/// NOISEKD_THREADS=N sets the worker count (default: all cores).
/// Each cell is "median [best] {cpu}": the rate at the median and at the best wall time, and at the
/// median process CPU time divided by the thread count. On a shared machine the CPU-time rate moves
/// least with other processes' load, so A/B comparisons read it first.
/// </summary>
public static class QuickGflops
{
    public static int Run(string[] args)
    {
        string what = args.Length > 0 ? args[0] : "all";
        int batch = args.Length > 1 ? int.Parse(args[1]) : 64;
        string filter = args.Length > 2 ? args[2] : "";
        string set = args.Length > 3 ? args[3] : "cifar";
        if (int.TryParse(Environment.GetEnvironmentVariable("NOISEKD_THREADS"), out int threads)) CpuParallel.Threads = threads;
        var backend = CpuBackend.Instance;
        Console.WriteLine($"threads {CpuParallel.Threads}, vector path {CpuVector.Path}, {DateTime.Now:yyyy-MM-dd HH:mm}");
        if (what is "all" or "sgemm") Sgemm(backend);
        if (what is "all" or "conv") Conv(backend, set, batch, filter);
        if (what is "all" or "bn") BatchNorm(backend, set, batch, filter);
        if (what is "all" or "elementwise") Elementwise(backend, set, batch, filter);
        return 0;
    }

    static void Sgemm(CpuBackend backend)
    {
        Console.WriteLine("SGEMM C = A*B, n x n: GFLOP/s");
        foreach (int n in Shapes.SgemmSizes)
        {
            using var a = TestData.Random(backend, (long)n * n, 1);
            using var b = TestData.Random(backend, (long)n * n, 2);
            using var c = backend.Allocate((long)n * n);
            var t = Time(() => backend.Gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n));
            Console.WriteLine($"{n,-26} {Cell(2.0 * n * n * n, t),26}");
        }
    }

    /// <summary>
    /// `gemm M N K [M N K ...]`: C[M x N] = A[M x K] * B[K x N] from stored matrices, to separate the
    /// GEMM's own rate at a convolution's shape (M = Cout, K = Cin*KH*KW, N = images * pixels) from
    /// the packing and copies around it.
    /// </summary>
    public static int Rectangular(string[] args)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("NOISEKD_THREADS"), out int threads)) CpuParallel.Threads = threads;
        var backend = CpuBackend.Instance;
        Console.WriteLine($"threads {CpuParallel.Threads}, vector path {CpuVector.Path}, {DateTime.Now:yyyy-MM-dd HH:mm}");
        Console.WriteLine("SGEMM C = A*B, M x N x K: GFLOP/s");
        for (int i = 0; i + 2 < args.Length; i += 3)
        {
            int m = int.Parse(args[i]), n = int.Parse(args[i + 1]), k = int.Parse(args[i + 2]);
            using var a = TestData.Random(backend, (long)m * k, 1);
            using var b = TestData.Random(backend, (long)k * n, 2);
            using var c = backend.Allocate((long)m * n);
            var t = Time(() => backend.Gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n));
            Console.WriteLine($"{$"{m} x {n} x {k}",-26} {Cell(2.0 * m * n * k, t),26}");
        }
        return 0;
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
        Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["ms_per_step"] = t.Median * 1e3, ["gflops"] = 2.0 * n * n * n / t.Median / 1e9, ["peak_mb"] = process.PeakWorkingSet64 / 1048576.0,
            ["cpu_vector"] = CpuVector.Path,
        }));
        return 0;
    }

    static void Conv(CpuBackend backend, string set, int batch, string filter)
    {
        Console.WriteLine($"conv ({set}), batch {batch}: GFLOP/s (forward flops for every pass)");
        Console.WriteLine($"{"layer",-26} {"forward",26} {"backward data",26} {"backward weight",26}");
        foreach (var (name, g) in Shapes.Conv(set, batch).Where(c => c.Name.Contains(filter)))
        {
            using var x = TestData.Random(backend, g.InputLength, 1);
            using var w = TestData.Random(backend, g.WeightLength, 2);
            using var y = TestData.Random(backend, g.OutputLength, 3);
            var f = Time(() => backend.Conv2dForward(g, x, w, y));
            var d = Time(() => backend.Conv2dBackwardData(g, y, w, x, false));
            var wt = Time(() => backend.Conv2dBackwardWeight(g, x, y, w, false));
            Console.WriteLine($"{name,-26} {Cell(g.Flops, f),26} {Cell(g.Flops, d),26} {Cell(g.Flops, wt),26}");
        }
    }

    static void BatchNorm(CpuBackend backend, string set, int batch, string filter)
    {
        Console.WriteLine($"BatchNorm2d ({set}), batch {batch}: GB/s (each pass's compulsory bytes: statistics reads x, forward x -> y, backward x, dy -> dx)");
        Console.WriteLine($"{"activation",-26} {"statistics",26} {"forward",26} {"backward",26}");
        foreach (var (name, n, c, hw) in Shapes.Activations(set, batch).Where(a => a.Name.Contains(filter)))
        {
            long length = (long)n * c * hw, bytes = length * sizeof(float);
            using var x = TestData.Random(backend, length, 1);
            using var dy = TestData.Random(backend, length, 2);
            using var y = backend.Allocate(length);
            using var mean = backend.Allocate(c);
            using var variance = backend.Allocate(c);
            using var gamma = TestData.Random(backend, c, 3);
            using var beta = TestData.Random(backend, c, 4);
            using var dgamma = backend.Allocate(c);
            using var dbeta = backend.Allocate(c);
            var s = Time(() => backend.BatchNormStatistics(x, n, c, hw, mean, variance));
            var f = Time(() => backend.BatchNormForward(x, n, c, hw, mean, variance, 1e-5f, gamma, beta, y));
            var b = Time(() => backend.BatchNormBackward(x, dy, n, c, hw, mean, variance, 1e-5f, gamma, true, y, false, dgamma, dbeta));
            Console.WriteLine($"{name,-26} {Cell(bytes, s),26} {Cell(2 * bytes, f),26} {Cell(3 * bytes, b),26}");
        }
    }

    static void Elementwise(CpuBackend backend, string set, int batch, string filter)
    {
        Console.WriteLine($"elementwise ({set}), batch {batch}: GB/s (compulsory bytes)");
        Console.WriteLine($"{"activation",-26} {"relu",26} {"relu backward",26} {"add",26} {"axpby (beta 1)",26}");
        foreach (var (name, n, c, hw) in Shapes.Activations(set, batch).Where(a => a.Name.Contains(filter)))
        {
            long length = (long)n * c * hw, bytes = length * sizeof(float);
            using var x = TestData.Random(backend, length, 1);
            using var dy = TestData.Random(backend, length, 2);
            using var y = backend.Allocate(length);
            var relu = Time(() => backend.Unary(UnaryOp.Relu, 0f, x, y, length));
            var reluBackward = Time(() => backend.UnaryBackward(UnaryOp.Relu, 0f, x, dy, y, length, false));
            var add = Time(() => backend.Binary(BinaryOp.Add, x, dy, y, length));
            var axpby = Time(() => backend.Axpby(1f, x, 1f, y, length));
            Console.WriteLine($"{name,-26} {Cell(2 * bytes, relu),26} {Cell(3 * bytes, reluBackward),26} {Cell(3 * bytes, add),26} {Cell(3 * bytes, axpby),26}");
        }
    }

    /// <summary>work/1e9 per second at the median wall time [the best wall time] {the median CPU time per thread}.</summary>
    static string Cell(double work, Timing t)
        => $"{work / t.Median / 1e9,5:F1} [{work / t.Best / 1e9,5:F1}] {{{work / (t.MedianCpu / CpuParallel.Threads) / 1e9,5:F1}}}";

    readonly record struct Timing(double Median, double Best, double MedianCpu);

    static Timing Time(Action action)
    {
        for (int i = 0; i < 3; i++) action();
        var times = new List<double>();
        var cpu = new List<double>();
        using var process = Process.GetCurrentProcess();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || (total.Elapsed.TotalSeconds < 1.0 && times.Count < 1000))
        {
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            action();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            process.Refresh();
            cpu.Add((process.TotalProcessorTime - cpuStart).TotalSeconds);
        }
        times.Sort();
        cpu.Sort();
        return new Timing(times[times.Count / 2], times[0], cpu[cpu.Count / 2]);
    }
}
