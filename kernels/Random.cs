using ILGPU;

namespace NoiseKD.Kernels;

/// <summary>Count elements from counters Offset + i of stream Seed; (A, B) = (low, width), (mean, std) or (keep, scale).</summary>
public readonly struct RandomParams(int count, ulong seed, ulong offset, float a, float b)
{
    public readonly int Count = count;
    public readonly ulong Seed = seed, Offset = offset;
    public readonly float A = a, B = b;
}

/// <summary>
/// Counter-based fills (IBackend: FillUniform, FillNormal, FillBernoulli): element i is a pure function of
/// (seed, offset + i), bit for bit the integer math of src/NoiseKD.Backends/CounterRng.cs.
/// </summary>
public static class RandomFill
{
    /// <summary>SplitMix64's finalizer (Steele, Lea, Flood 2014) on a seed-keyed counter.</summary>
    public static ulong Mix(ulong seed, ulong counter)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + counter * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 bits (exact in float).</summary>
    public static float Uniform(ulong seed, ulong counter) => (uint)(Mix(seed, counter) >> 40) * (1f / 16777216f);

    /// <summary>Box-Muller on two 24-bit halves of one draw; u1 in (0, 1] keeps the log finite.</summary>
    public static float Normal(ulong seed, ulong counter)
    {
        ulong r = Mix(seed, counter);
        float u1 = ((uint)(r >> 40) + 1u) * (1f / 16777216f);
        float u2 = ((uint)(r >> 8) & 0xFFFFFFu) * (1f / 16777216f);
        return MathF.Sqrt(-2f * MathF.Log(u1)) * MathF.Cos(2f * 3.14159274f * u2);
    }

    public static void FillUniform(ArrayView<float> y, RandomParams p)
    {
        for (int i = Loops.First; i < p.Count; i += Loops.Stride) y[i] = p.A + p.B * Uniform(p.Seed, p.Offset + (ulong)i);
    }

    public static void FillNormal(ArrayView<float> y, RandomParams p)
    {
        for (int i = Loops.First; i < p.Count; i += Loops.Stride) y[i] = p.A + p.B * Normal(p.Seed, p.Offset + (ulong)i);
    }

    public static void FillBernoulli(ArrayView<float> y, RandomParams p)
    {
        for (int i = Loops.First; i < p.Count; i += Loops.Stride) y[i] = Uniform(p.Seed, p.Offset + (ulong)i) < p.A ? p.B : 0f;
    }
}
