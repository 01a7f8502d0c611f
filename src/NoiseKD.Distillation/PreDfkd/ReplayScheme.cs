namespace NoiseKD.Distillation.PreDfkd;

/// <summary>How many samples are replayed, from which latents, and when and on what the memory learns.</summary>
public enum ReplayScheme
{
    /// <summary>
    /// This engine's first version: novel / 2 replayed per student update from z ~ N(0, I), nothing before the
    /// memory's first update; one memory update per step, after the student updates, on the whole last novel
    /// batch plus novel / 2 of the memory's own samples (decoder in eval mode).
    /// </summary>
    Engine,
    /// <summary>
    /// The public PRE-DFKD code (main.py, distillation.py): batch // 8 replayed per student update, from the
    /// first update on, from latents tuned by <see cref="LatentTuning"/>; the memory learns after each of the
    /// first 4 student updates of a step, on the first half of that novel batch plus batch // 8 of its own
    /// samples (tuned latents, decoder in train mode); the updates of the very first step see novel samples only.
    /// </summary>
    Paper,
}
