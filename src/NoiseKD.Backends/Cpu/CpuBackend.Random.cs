using static NoiseKD.Backends.BackendChecks;

namespace NoiseKD.Backends.Cpu;

// Counter-based fills: element i is a pure function of (seed, offset + i), so the split over cores
// (and over devices) never changes the numbers drawn.
public sealed unsafe partial class CpuBackend
{
    public void FillUniform(DeviceBuffer destination, long count, ulong seed, ulong offset, float low, float high)
        => FillFromCounter(destination, count, offset, new UniformDraw(seed, low, high - low));

    public void FillNormal(DeviceBuffer destination, long count, ulong seed, ulong offset, float mean, float std)
        => FillFromCounter(destination, count, offset, new NormalDraw(seed, mean, std));

    public void FillBernoulli(DeviceBuffer destination, long count, ulong seed, ulong offset, float keepProbability, float scale)
        => FillFromCounter(destination, count, offset, new BernoulliDraw(seed, keepProbability, scale));

    interface ICounterDraw
    {
        float Draw(ulong counter);
    }

    readonly struct UniformDraw(ulong seed, float low, float width) : ICounterDraw
    {
        public float Draw(ulong counter) => low + width * CounterRng.Uniform(seed, counter);
    }

    readonly struct NormalDraw(ulong seed, float mean, float std) : ICounterDraw
    {
        public float Draw(ulong counter) => mean + std * CounterRng.Normal(seed, counter);
    }

    readonly struct BernoulliDraw(ulong seed, float keepProbability, float scale) : ICounterDraw
    {
        public float Draw(ulong counter) => CounterRng.Uniform(seed, counter) < keepProbability ? scale : 0f;
    }

    // A struct draw (not a delegate) so the JIT inlines the generator into the loop.
    static void FillFromCounter<TDraw>(DeviceBuffer destination, long count, ulong offset, TDraw draw)
        where TDraw : struct, ICounterDraw
    {
        CheckRange(destination, 0, count);
        float* p = P(destination);
        CpuParallel.ForRange(count, 16, (start, end) =>
        {
            for (long i = start; i < end; i++) p[i] = draw.Draw(offset + (ulong)i);
        });
    }
}
