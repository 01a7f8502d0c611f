using NoiseKD.Autograd;
using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Serialization;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// PRE-DFKD's pseudo replay (Binici et al. 2022, Sec. 3.2): a VAE learns the distribution of past novel
/// samples and the student rehearses on its samples. It is trained on the novel batch together with
/// samples of itself (generative replay, so the memory does not forget either), on L1 between images and
/// reconstructions plus L1 between the teacher's logits of both, and a KL term weighted ~1e-5 (the
/// authors' code). Its memory cost is its parameters, independent of how many samples it has seen.
/// </summary>
public sealed class VaeMemory : IReplayMemory
{
    readonly ConvVae _vae;
    readonly Adam _optimizer;
    readonly Module _teacher;
    readonly Generator _noise;
    readonly int _selfReplay;
    readonly float _klWeight;

    public VaeMemory(ConvVae vae, Module teacher, float learningRate, int selfReplaySamples, float klWeight, Generator noise)
    {
        _vae = vae;
        _teacher = teacher;
        _noise = noise;
        _selfReplay = selfReplaySamples;
        _klWeight = klWeight;
        _optimizer = new Adam(vae.Parameters(), learningRate);
    }

    public long Bytes => _vae.MemoryBytes;

    /// <summary>Nothing to replay before the first update; then decoder samples in eval mode (as the authors' code).</summary>
    public Tensor? Sample(int count) => Show(count, _noise);

    public Tensor? Show(int count, Generator noise)
    {
        if (_optimizer.StepCount == 0 || count == 0) return null;
        using var _ = Tape.NoGrad();
        _vae.Eval();
        var samples = _vae.Decoder.Sample(count, noise);
        _vae.Train();
        return samples;
    }

    public double? Observe(Tensor novel)
    {
        var replay = Sample(_selfReplay);
        var x = replay is null ? novel : F.Concat([novel, replay], 0);
        Tensor target;
        using (Tape.NoGrad()) target = _teacher.Forward(x);
        var (reconstruction, mu, logVar) = _vae.Reconstruct(x, _noise);
        var loss = F.Add(F.Add(F.L1Loss(reconstruction, x), F.L1Loss(_teacher.Forward(reconstruction), target)),
                         F.Scale(F.GaussianKlDivergence(mu, logVar), _klWeight));
        _optimizer.ZeroGrad();
        loss.Backward();
        double value = loss.Item();
        if (!double.IsFinite(value)) return value;   // the trainer stops before anything is saved
        _optimizer.Step();
        return value;
    }

    public IReadOnlyList<CheckpointPart> Parts => [new CheckpointPart("vae", _vae, _optimizer)];
    public IEnumerable<NamedArray> SaveState(IDictionary<string, string> metadata) => [];
    public void LoadState(IReadOnlyList<NamedArray> arrays, IReadOnlyDictionary<string, string> metadata) { }
}
