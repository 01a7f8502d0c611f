using NoiseKD.Autograd;
using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Serialization;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// <see cref="ReplayScheme.Paper"/>'s replay: latents tuned by <see cref="LatentTuning"/> with the generator
/// objective's class terms at <paramref name="LatentLr"/>; the first <paramref name="NovelOnlyUpdates"/> memory
/// updates (the public code's first step) learn the novel half-batch alone.
/// </summary>
public sealed record TunedReplay(GeneratorObjective Objective, float LatentLr, int NovelOnlyUpdates);

/// <summary>
/// PRE-DFKD's pseudo replay (Binici et al. 2022, Sec. 3.2): a VAE learns the distribution of past novel
/// samples and the student rehearses on its samples. It is trained on the novel batch together with
/// samples of itself (generative replay, so the memory does not forget either), on L1 between images and
/// reconstructions plus L1 between the teacher's logits of both, and a KL term weighted ~1e-5 (the
/// authors' code). Its memory cost is its parameters, independent of how many samples it has seen.
/// Without <see cref="TunedReplay"/> (<see cref="ReplayScheme.Engine"/>) it replays from z ~ N(0, I) in
/// eval mode once trained and learns whole novel batches; with it, as the public code.
/// </summary>
public sealed class VaeMemory : IReplayMemory
{
    readonly ConvVae _vae;
    readonly Adam _optimizer;
    readonly Module _teacher;
    readonly Generator _noise;
    readonly int _selfReplay;
    readonly float _klWeight;
    readonly TunedReplay? _tuned;

    public VaeMemory(ConvVae vae, Module teacher, float learningRate, int selfReplaySamples, float klWeight, Generator noise, TunedReplay? tuned = null)
    {
        _vae = vae;
        _teacher = teacher;
        _noise = noise;
        _selfReplay = selfReplaySamples;
        _klWeight = klWeight;
        _tuned = tuned;
        _optimizer = new Adam(vae.Parameters(), learningRate);
    }

    public long Bytes => _vae.MemoryBytes;

    /// <summary>
    /// Decoder samples in eval mode (as the authors' code). Engine: nothing before the first update. Tuned:
    /// from the start, as the public code replays its untrained decoder too.
    /// </summary>
    public Tensor? Sample(int count)
    {
        if (count == 0 || _tuned is null && _optimizer.StepCount == 0) return null;
        _vae.Eval();
        var samples = Decode(count);
        _optimizer.ZeroGrad();   // the tuning's decoder gradient is not for this step (the public code zeroes it before its next memory update)
        _vae.Train();
        return samples;
    }

    /// <summary>For pictures: decoder samples of <paramref name="noise"/>'s latents in eval mode, untuned, leaving the run's own noise alone; nothing before the first update.</summary>
    public Tensor? Show(int count, Generator noise)
    {
        if (count == 0 || _optimizer.StepCount == 0) return null;
        _vae.Eval();
        Tensor samples;
        using (Tape.NoGrad()) samples = _vae.Decoder.Sample(count, noise);
        _vae.Train();
        return samples;
    }

    /// <summary>Detached decoder samples of fresh (and, with <see cref="TunedReplay"/>, tuned) latents, in the decoder's current mode.</summary>
    Tensor Decode(int count)
    {
        var z = _tuned is null ? _noise.Normal([count, _vae.LatentSize]) : LatentTuning.Tune(_vae.Decoder, _teacher, _tuned.Objective, count, _tuned.LatentLr, _noise);
        using var _ = Tape.NoGrad();
        return _vae.Decoder.Forward(z);
    }

    public double? Observe(Tensor novel)
    {
        _optimizer.ZeroGrad();
        var x = _tuned is null ? WithSelfReplay(novel, Sample(_selfReplay)) : TunedInput(novel);
        Tensor target;
        using (Tape.NoGrad()) target = _teacher.Forward(x);
        var (reconstruction, mu, logVar) = _vae.Reconstruct(x, _noise);
        var loss = F.Add(F.Add(F.L1Loss(reconstruction, x), F.L1Loss(_teacher.Forward(reconstruction), target)),
                         F.Scale(F.GaussianKlDivergence(mu, logVar), _klWeight));
        loss.Backward();
        double value = loss.Item();
        if (!double.IsFinite(value)) return value;   // the trainer stops before anything is saved
        _optimizer.Step();
        return value;
    }

    static Tensor WithSelfReplay(Tensor novel, Tensor? replay) => replay is null ? novel : F.Concat([novel, replay], 0);

    /// <summary>
    /// The public code's memory input: the first half of the novel batch, then (after its first step) its own
    /// samples of tuned latents in train mode. The tuning's gradient stays in the decoder, which the public
    /// code's step also applies (it zeroes gradients before tuning, not after).
    /// </summary>
    Tensor TunedInput(Tensor novel)
    {
        var half = FirstRows(novel, novel.Shape[0] / 2);
        return _optimizer.StepCount < _tuned!.NovelOnlyUpdates ? half : WithSelfReplay(half, Decode(_selfReplay));
    }

    static Tensor FirstRows(Tensor x, int rows)
    {
        int per = checked((int)(x.Numel / x.Shape[0]));
        return Tensor.FromArray(x.ToArray().AsSpan(0, rows * per), [rows, .. x.Shape[1..]], x.Backend);
    }

    public IReadOnlyList<CheckpointPart> Parts => [new CheckpointPart("vae", _vae, _optimizer)];
    public IEnumerable<NamedArray> SaveState(IDictionary<string, string> metadata) => [];
    public void LoadState(IReadOnlyList<NamedArray> arrays, IReadOnlyDictionary<string, string> metadata) { }
}
