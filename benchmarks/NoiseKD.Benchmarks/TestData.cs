using NoiseKD.Backends;

namespace NoiseKD.Benchmarks;

static class TestData
{
    /// <summary>A buffer of uniform values in [-1, 1) from a fixed seed.</summary>
    public static DeviceBuffer Random(IBackend backend, long length, int seed)
    {
        var buffer = backend.Allocate(length);
        var rng = new Random(seed);
        var values = new float[length];
        for (long i = 0; i < length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        backend.Upload(values, buffer, 0);
        return buffer;
    }
}
