namespace NoiseKD.Backends.Conformance;

/// <summary>
/// The buffers of one case on one backend, drawn from a seeded stream: running a case twice with the
/// same seed (once per backend) gives both the same inputs. Outputs that a primitive must overwrite
/// start as NaN, so a kernel that reads them (beta = 0, accumulate = false) poisons its result.
/// </summary>
public sealed class ConformanceContext(IBackend backend, int seed) : IDisposable
{
    readonly Random _rng = new(seed);
    readonly List<DeviceBuffer> _buffers = [];

    public IBackend Backend { get; } = backend;

    /// <summary>A buffer of uniform values in [low, high).</summary>
    public DeviceBuffer Input(long length, float low = -1f, float high = 1f)
    {
        var values = new float[length];
        for (long i = 0; i < length; i++) values[i] = low + (high - low) * _rng.NextSingle();
        return Upload(values);
    }

    /// <summary>A buffer the primitive must overwrite without reading: NaN everywhere.</summary>
    public DeviceBuffer Output(long length)
    {
        var buffer = Track(Backend.Allocate(length));
        Backend.Fill(buffer, 0, length, float.NaN);
        return buffer;
    }

    /// <summary>An output the primitive overwrites (NaN) or adds to (random values), as accumulate says.</summary>
    public DeviceBuffer Output(long length, bool accumulate) => accumulate ? Input(length) : Output(length);

    public DeviceBuffer Upload(float[] values)
    {
        var buffer = Track(Backend.Allocate(values.Length));
        Backend.Upload(values, buffer, 0);
        return buffer;
    }

    float[] ReadOne(DeviceBuffer buffer)
    {
        var host = new float[buffer.Length];
        Backend.Download(buffer, 0, host);
        return host;
    }

    /// <summary>Reads every buffer back, in order (the usual last line of a case).</summary>
    public float[][] Read(params DeviceBuffer[] buffers) => buffers.Select(ReadOne).ToArray();

    DeviceBuffer Track(DeviceBuffer buffer)
    {
        _buffers.Add(buffer);
        return buffer;
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers) buffer.Dispose();
        _buffers.Clear();
    }
}
