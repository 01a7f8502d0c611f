using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Training;

/// <summary>
/// Re-estimates a model's BatchNorm running statistics from real images (forward passes only, no labels,
/// no gradient): the running buffers are reset and set to the cumulative average of the batch statistics
/// over the given images, as torch.optim.swa_utils.update_bn does. This is the noise-KD paper's
/// "adjusting the student's running statistics with a few real samples".
/// </summary>
public static class BnRecalibration
{
    public static void Reestimate(Module model, Dataset images, Normalization normalization, int batchSize, IBackend? device = null)
    {
        var layers = BnControl.Layers(model);
        var saved = layers.Select(l => (l.Momentum, l.Statistics, l.UpdateRunningStatistics)).ToArray();
        bool wasTraining = model.Training;
        model.Eval();
        foreach (var layer in layers)
        {
            layer.ResetRunningStatistics();
            layer.Momentum = null;
            layer.Statistics = BnStatistics.Current;
            layer.UpdateRunningStatistics = true;
        }
        using (Tape.NoGrad())
            foreach (var batch in new DataLoader(images, batchSize, normalization, dropLast: images.Count >= batchSize).Epoch(0))
            {
                if (batch.Count < 2) continue;
                using var scope = new TensorScope();
                model.Forward(Tensor.FromArray(batch.ImageData, batch.Shape, device));
            }
        for (int i = 0; i < layers.Count; i++) (layers[i].Momentum, layers[i].Statistics, layers[i].UpdateRunningStatistics) = saved[i];
        model.Train(wasTraining);
    }

    /// <summary>Copies of every BN buffer, to put back after a temporary re-estimation.</summary>
    public static IDisposable Preserve(Module model)
    {
        var buffers = model.NamedBuffers().ToDictionary(b => b.Name, b => (b.Value.Shape, b.Value.ToArray()));
        return new Disposable(() => model.LoadStateDict(buffers, strict: false));
    }
}
