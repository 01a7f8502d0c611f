using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using NoiseKD.Backends.Cpu;

namespace NoiseKD.Benchmarks;

/// <summary>
/// `fma-peak [threads]`: the machine's single-precision FMA peak, the denominator of "share of peak" in
/// the side-by-side table. Each thread runs 12 independent FMA chains (more than latency x pipes on any
/// current x86 core, so the pipes, not the dependency chains, set the rate) on registers only, at
/// 256 bits and, where the CPU accelerates them, at 512 bits; the best of 5 runs of ~0.2 s each.
/// Prints one JSON line with both rates and the CPU's vector features.
/// </summary>
public static class FmaPeak
{
    const int Chains = 12;

    public static int Run(string[] args)
    {
        int threads = args.Length > 0 ? int.Parse(args[0]) : Environment.ProcessorCount;
        var result = new Dictionary<string, object>
        {
            ["threads"] = threads,
            ["gflops_256"] = Math.Round(Peak(threads, Chains256), 1),
            ["gflops_512"] = Vector512.IsHardwareAccelerated ? Math.Round(Peak(threads, Chains512), 1) : 0.0,
            ["cpu_vector"] = CpuVector.Path,
            ["features"] = Features(),
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>The x86 vector extensions this runtime reports, shortest first.</summary>
    public static string Features()
    {
        var names = new List<string>();
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) names.Add("avx2");
        if (System.Runtime.Intrinsics.X86.Fma.IsSupported) names.Add("fma");
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) names.Add("avx512f");
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported) names.Add("avx512bw");
        if (System.Runtime.Intrinsics.X86.Avx512Vbmi.IsSupported) names.Add("avx512vbmi");
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported) names.Add("avxvnni");
        return names.Count == 0 ? "none" : string.Join(",", names);
    }

    /// <summary>Best GFLOP/s of 5 runs with every thread running <paramref name="chains"/> for the same iteration count.</summary>
    static double Peak(int threads, Func<long, float> chains)
    {
        long iterations = 1 << 20;
        // Calibrate to ~0.2 s on one thread so a run is long against thread start-up.
        for (var clock = Stopwatch.StartNew(); ; iterations *= 2, clock.Restart())
        {
            chains(iterations);
            if (clock.Elapsed.TotalSeconds > 0.1) break;
        }
        double best = 0;
        int lanes = chains == Chains512 ? 16 : 8;
        for (int run = 0; run < 5; run++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => chains(iterations));
            double seconds = clock.Elapsed.TotalSeconds;
            best = Math.Max(best, 2.0 * Chains * lanes * iterations * threads / seconds / 1e9);
        }
        return best;
    }

    static readonly Func<long, float> Chains256 = Fma256, Chains512 = Fma512;

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Fma256(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var a = Vector256.Create(1e-7f);
        Vector256<float> x0 = Vector256.Create(1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
        Vector256<float> x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
        for (long i = 0; i < iterations; i++)
        {
            x0 = Vector256.FusedMultiplyAdd(x0, m, a); x1 = Vector256.FusedMultiplyAdd(x1, m, a);
            x2 = Vector256.FusedMultiplyAdd(x2, m, a); x3 = Vector256.FusedMultiplyAdd(x3, m, a);
            x4 = Vector256.FusedMultiplyAdd(x4, m, a); x5 = Vector256.FusedMultiplyAdd(x5, m, a);
            x6 = Vector256.FusedMultiplyAdd(x6, m, a); x7 = Vector256.FusedMultiplyAdd(x7, m, a);
            x8 = Vector256.FusedMultiplyAdd(x8, m, a); x9 = Vector256.FusedMultiplyAdd(x9, m, a);
            x10 = Vector256.FusedMultiplyAdd(x10, m, a); x11 = Vector256.FusedMultiplyAdd(x11, m, a);
        }
        // The sum keeps every chain live, so none is removed.
        return Vector256.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Fma512(long iterations)
    {
        var m = Vector512.Create(0.999999f);
        var a = Vector512.Create(1e-7f);
        Vector512<float> x0 = Vector512.Create(1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
        Vector512<float> x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
        for (long i = 0; i < iterations; i++)
        {
            x0 = Vector512.FusedMultiplyAdd(x0, m, a); x1 = Vector512.FusedMultiplyAdd(x1, m, a);
            x2 = Vector512.FusedMultiplyAdd(x2, m, a); x3 = Vector512.FusedMultiplyAdd(x3, m, a);
            x4 = Vector512.FusedMultiplyAdd(x4, m, a); x5 = Vector512.FusedMultiplyAdd(x5, m, a);
            x6 = Vector512.FusedMultiplyAdd(x6, m, a); x7 = Vector512.FusedMultiplyAdd(x7, m, a);
            x8 = Vector512.FusedMultiplyAdd(x8, m, a); x9 = Vector512.FusedMultiplyAdd(x9, m, a);
            x10 = Vector512.FusedMultiplyAdd(x10, m, a); x11 = Vector512.FusedMultiplyAdd(x11, m, a);
        }
        return Vector512.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }
}
