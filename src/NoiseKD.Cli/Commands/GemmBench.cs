using System.Diagnostics;
using System.Text.Json;
using NoiseKD.Backends;

namespace NoiseKD.Cli.Commands;

/// <summary>`bench --gemm N`: the SGEMM primitive alone on N x N operands, median of the timed runs, one JSON line.</summary>
static class GemmBench
{
    public static int Run(IBackend device, int n, int steps, int warmup)
    {
        if (n <= 0 || steps <= 0 || warmup < 0) throw new ArgumentException("--gemm N and --steps must be positive, --warmup non-negative");
        long length = (long)n * n;
        using var a = device.Allocate(length);
        using var b = device.Allocate(length);
        using var c = device.Allocate(length);
        device.FillUniform(a, length, 1, 0, -1f, 1f);
        device.FillUniform(b, length, 2, 0, -1f, 1f);
        void Multiply() => device.Gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
        for (int i = 0; i < warmup; i++) Multiply();
        device.Synchronize();
        var times = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            var clock = Stopwatch.StartNew();
            Multiply();
            device.Synchronize();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        double median = times[steps / 2];
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["op"] = "sgemm", ["n"] = n, ["ms"] = Math.Round(median, 3), ["gflops"] = Math.Round(2.0 * n * n * n / (median / 1000) / 1e9, 2),
            ["device"] = device.Name, ["threads"] = Backends.Cpu.CpuParallel.Threads, ["steps"] = steps,
            ["cpu_vector"] = Backends.Cpu.CpuVector.Path,
        }));
        return 0;
    }
}
