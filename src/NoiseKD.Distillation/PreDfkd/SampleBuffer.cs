using System.Globalization;
using NoiseKD.Serialization;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// The sample-storing baseline: past generator samples kept on the host up to a byte cap, chosen by
/// reservoir sampling (Vitter's Algorithm R), so the buffer is a uniform sample of everything seen.
/// </summary>
public sealed class SampleBuffer : IReplayMemory
{
    readonly int[] _sampleShape;
    readonly int _sampleFloats;
    readonly List<float[]> _samples = new();
    readonly Generator _random;
    long _seen;

    public SampleBuffer(long capBytes, int[] sampleShape, Generator random)
    {
        _sampleShape = sampleShape;
        _sampleFloats = (int)Shape.Numel(sampleShape);
        Capacity = (int)Math.Min(int.MaxValue, capBytes / (4L * _sampleFloats));
        if (Capacity < 1) throw new ArgumentException($"a replay buffer of {capBytes} bytes cannot hold one {Shape.Format(sampleShape)} sample");
        _random = random;
    }

    /// <summary>Samples the cap allows.</summary>
    public int Capacity { get; }
    public int Count => _samples.Count;
    public long Bytes => 4L * _sampleFloats * _samples.Count;

    public Tensor? Sample(int count)
    {
        if (_samples.Count == 0 || count == 0) return null;
        var data = new float[(long)count * _sampleFloats];
        for (int i = 0; i < count; i++) _samples[_random.NextInt(_samples.Count)].CopyTo(data, (long)i * _sampleFloats);
        return Tensor.FromArray(data, [count, .. _sampleShape]);
    }

    /// <summary>The first <paramref name="count"/> stored samples (no draw: the reservoir's random stream is the run's).</summary>
    public Tensor? Show(int count, Generator noise)
    {
        int n = Math.Min(count, _samples.Count);
        if (n == 0) return null;
        var data = new float[(long)n * _sampleFloats];
        for (int i = 0; i < n; i++) _samples[i].CopyTo(data, (long)i * _sampleFloats);
        return Tensor.FromArray(data, [n, .. _sampleShape]);
    }

    public double? Observe(Tensor novel)
    {
        var host = novel.ToArray();
        for (int i = 0; i < novel.Shape[0]; i++)
        {
            var sample = host.AsSpan(i * _sampleFloats, _sampleFloats);
            _seen++;
            if (_samples.Count < Capacity) _samples.Add(sample.ToArray());
            else if (_random.NextInt((int)Math.Min(_seen, int.MaxValue)) is var j && j < Capacity) sample.CopyTo(_samples[j]);
        }
        return null;
    }

    public IReadOnlyList<CheckpointPart> Parts => [];

    public IEnumerable<NamedArray> SaveState(IDictionary<string, string> metadata)
    {
        metadata["replay_seen"] = _seen.ToString(CultureInfo.InvariantCulture);
        if (_samples.Count == 0) return [];
        var data = new float[(long)_samples.Count * _sampleFloats];
        for (int i = 0; i < _samples.Count; i++) _samples[i].CopyTo(data, (long)i * _sampleFloats);
        return [new NamedArray("replay_buffer", [_samples.Count, .. _sampleShape], data)];
    }

    public void LoadState(IReadOnlyList<NamedArray> arrays, IReadOnlyDictionary<string, string> metadata)
    {
        _seen = long.Parse(metadata.GetValueOrDefault("replay_seen", "0"), CultureInfo.InvariantCulture);
        _samples.Clear();
        if (arrays.FirstOrDefault(a => a.Name == "replay_buffer") is not { } stored) return;
        for (int i = 0; i < stored.Shape[0]; i++) _samples.Add(stored.Data.AsSpan(i * _sampleFloats, _sampleFloats).ToArray());
    }
}
