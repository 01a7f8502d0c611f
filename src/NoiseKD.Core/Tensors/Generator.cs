using NoiseKD.Backends;

namespace NoiseKD.Tensors;

/// <summary>
/// A seeded source of random numbers (torch.Generator). Device tensors draw from a counter-based
/// stream (<see cref="CounterRng"/>), so the same seed gives the same tensor on every backend;
/// host draws (shuffles, indices) come from the same stream.
/// </summary>
public sealed class Generator(ulong seed)
{
    ulong _offset;

    /// <summary>The generator used when none is passed (parameter init, dropout). Reseed with <see cref="ManualSeed"/>.</summary>
    public static Generator Default { get; private set; } = new(0);

    /// <summary>torch.manual_seed: reseeds the default generator.</summary>
    public static void ManualSeed(ulong seed) => Default = new Generator(seed);

    public ulong Seed { get; } = seed;

    /// <summary>How many values have been drawn (the next counter).</summary>
    public ulong Offset { get => _offset; set => _offset = value; }

    /// <summary>Reserves <paramref name="count"/> counters and returns the first.</summary>
    public ulong Take(long count)
    {
        ulong first = _offset;
        _offset += (ulong)count;
        return first;
    }

    public Tensor Normal(int[] shape, float mean = 0f, float std = 1f, IBackend? device = null)
    {
        var t = Tensor.Empty(shape, device);
        t.Backend.FillNormal(t.Buffer, t.Numel, Seed, Take(t.Numel), mean, std);
        return t;
    }

    public Tensor Uniform(int[] shape, float low = 0f, float high = 1f, IBackend? device = null)
    {
        var t = Tensor.Empty(shape, device);
        t.Backend.FillUniform(t.Buffer, t.Numel, Seed, Take(t.Numel), low, high);
        return t;
    }

    /// <summary>Uniform in [0, 1) drawn on the host.</summary>
    public float NextUniform() => CounterRng.Uniform(Seed, Take(1));

    /// <summary>Standard normal drawn on the host.</summary>
    public float NextNormal() => CounterRng.Normal(Seed, Take(1));

    /// <summary>Uniform integer in [0, maxExclusive).</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive));
        return (int)(CounterRng.Mix(Seed, Take(1)) % (ulong)maxExclusive);
    }

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A random permutation of 0..n-1 (torch.randperm).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        Shuffle<int>(p);
        return p;
    }
}
