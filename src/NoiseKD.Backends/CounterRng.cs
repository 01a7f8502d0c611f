using System.Runtime.CompilerServices;

namespace NoiseKD.Backends;

/// <summary>
/// Counter-based random numbers: value i of a stream is a pure function of (seed, i), so any device
/// can draw element i independently and every backend draws the same numbers. The mixer is
/// SplitMix64's finalizer (Steele, Lea, Flood 2014) applied to seed-keyed counters; a normal value
/// uses the Box-Muller transform on two 32-bit halves of one 64-bit draw. The kernels in kernels/
/// implement the same three functions.
/// </summary>
public static class CounterRng
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong seed, ulong counter)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + counter * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 bits of precision (exactly representable in float32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Uniform(ulong seed, ulong counter) => (Mix(seed, counter) >> 40) * (1.0f / 16777216.0f);

    /// <summary>Standard normal via Box-Muller; u1 in (0, 1] so the log is finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Normal(ulong seed, ulong counter)
    {
        ulong r = Mix(seed, counter);
        float u1 = ((uint)(r >> 40) + 1u) * (1.0f / 16777216.0f);
        float u2 = ((uint)(r >> 8) & 0xFFFFFFu) * (1.0f / 16777216.0f);
        return MathF.Sqrt(-2.0f * MathF.Log(u1)) * MathF.Cos(2.0f * MathF.PI * u2);
    }
}
