using NoiseKD.Serialization;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>What the student rehearses on to keep what earlier generator states taught it.</summary>
public interface IReplayMemory
{
    /// <summary>Bytes held for replay (VAE parameters, or stored samples).</summary>
    long Bytes { get; }

    /// <summary>Samples of past synthetic data for the student, or null when there is nothing to replay yet.</summary>
    Tensor? Sample(int count);

    /// <summary>
    /// Samples to look at (the run's picture of what is replayed), drawn with <paramref name="noise"/> so that the
    /// run's own random streams and the memory's state do not move; null when there is nothing yet.
    /// </summary>
    Tensor? Show(int count, Generator noise);

    /// <summary>Learns from a batch of novel (detached) generator samples; returns the memory's training loss, if it has one.</summary>
    double? Observe(Tensor novel);

    /// <summary>Trained modules to checkpoint (the VAE and its optimizer).</summary>
    IReadOnlyList<CheckpointPart> Parts { get; }

    /// <summary>State beyond the parts (stored samples), written into the checkpoint.</summary>
    IEnumerable<NamedArray> SaveState(IDictionary<string, string> metadata);

    void LoadState(IReadOnlyList<NamedArray> arrays, IReadOnlyDictionary<string, string> metadata);
}

/// <summary>DFAD-style training without replay (the ablation).</summary>
public sealed class NoReplay : IReplayMemory
{
    public long Bytes => 0;
    public Tensor? Sample(int count) => null;
    public Tensor? Show(int count, Generator noise) => null;
    public double? Observe(Tensor novel) => null;
    public IReadOnlyList<CheckpointPart> Parts => [];
    public IEnumerable<NamedArray> SaveState(IDictionary<string, string> metadata) => [];
    public void LoadState(IReadOnlyList<NamedArray> arrays, IReadOnlyDictionary<string, string> metadata) { }
}
