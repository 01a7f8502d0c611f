using System.Runtime.Intrinsics;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// The vector width the CPU kernels run at, chosen once per process: 512-bit (AVX-512) where the CPU
/// accelerates <see cref="Vector512"/>, else 256-bit (AVX2). <c>NOISEKD_CPU_VECTOR=avx2</c> forces the
/// narrower path on an AVX-512 CPU, so both paths can be run and timed on one machine.
/// </summary>
public static class CpuVector
{
    public const string Variable = "NOISEKD_CPU_VECTOR";

    static bool? _fromEnvironment;
    // Tests run the other path inside one async flow (and the tasks it starts) without touching the
    // rest of the process; the 512-bit kernels still compute correctly, only slowly, where
    // Vector512 is not accelerated (its operations then run on two 256-bit halves in software).
    static readonly AsyncLocal<bool?> Forced = new();

    /// <summary>True when the kernels use 512-bit vectors.</summary>
    public static bool Wide => Forced.Value ?? (_fromEnvironment ??= Choose(Environment.GetEnvironmentVariable(Variable)));

    /// <summary>The path in the words a user sets it with: "avx512" or "avx2".</summary>
    public static string Path => Wide ? "avx512" : "avx2";

    /// <summary>Checks NOISEKD_CPU_VECTOR, so a wrong value is a user error before any work starts.</summary>
    public static void CheckEnvironment() => _ = Choose(Environment.GetEnvironmentVariable(Variable));

    /// <summary>Runs the kernels of the calling async flow at the given width until disposed (tests).</summary>
    internal static IDisposable Force(bool wide)
    {
        var previous = Forced.Value;
        Forced.Value = wide;
        return new Restore(previous);
    }

    static bool Choose(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => Vector512.IsHardwareAccelerated,
        "avx2" => false,
        "avx512" when Vector512.IsHardwareAccelerated => true,
        "avx512" => throw new ArgumentException($"{Variable}=avx512, but this CPU (or runtime) does not accelerate 512-bit vectors; use auto or avx2"),
        _ => throw new ArgumentException($"{Variable}='{value}' is not a vector path; use auto, avx2 or avx512"),
    };

    sealed class Restore(bool? previous) : IDisposable
    {
        public void Dispose() => Forced.Value = previous;
    }
}
