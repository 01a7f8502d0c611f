using NoiseKD.Autograd;
using NoiseKD.Data;
using NoiseKD.Nn;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// After each epoch of a generative run, samples-epochNNN.png: row 1 the generator's samples, row 2 what the
/// memory replays (VAE decoder samples or stored samples; empty for dfad). The same latent vectors every
/// epoch (their own generator, seeded from the run's seed), so the rows show how the generator moves. Drawn
/// without moving anything the run uses: the generator in eval mode (no spectral-norm power step) with its
/// BatchNorm on current statistics as in training but running buffers untouched, the VAE in eval mode.
/// </summary>
public static class ReplayPictures
{
    public const int Count = 8;

    public static string PathFor(string outDir, int epoch) => Path.Combine(outDir, $"samples-epoch{epoch:D3}.png");

    public static void Write(string path, DaflGenerator generator, IReplayMemory memory, Normalization normalization, ulong seed)
    {
        var grid = new ImageGrid(generator.Channels, generator.ImageSize, generator.ImageSize, normalization);
        using (new TensorScope())
        using (Tape.NoGrad())
        {
            bool training = generator.Training;
            generator.Eval();
            using (BnControl.Override(generator, BnStatistics.Current, updateRunning: false))
                grid.AddRow(generator.Sample(Count, new Generator(seed)).ToArray());
            generator.Train(training);
            grid.AddRow(memory.Show(Count, new Generator(seed + 1))?.ToArray() ?? []);
        }
        grid.WritePng(path);
    }
}
