using System.Collections.Concurrent;
using NoiseKD.Tensors;

namespace NoiseKD.Data;

/// <summary>Training-time augmentation: random crop after zero padding, and random horizontal flip.</summary>
public sealed record Augmentation(int CropPadding = 0, bool HorizontalFlip = false)
{
    public static readonly Augmentation None = new();
    public bool IsNone => CropPadding == 0 && !HorizontalFlip;

    /// <summary>
    /// A dataset's standard training augmentation: CIFAR's pad-4 random crop and horizontal flip (He et al. 2016,
    /// pytorch-cifar); Fashion-MNIST keeps the 2-pixel crop and flip its teachers here have always used; MNIST's digits
    /// get the crop only (a mirrored digit is another glyph, or none).
    /// </summary>
    public static Augmentation Standard(string dataset) => dataset.ToLowerInvariant() switch
    {
        "mnist" => new(2, false),
        var d => new(d.Contains("mnist", StringComparison.Ordinal) ? 2 : 4, true),
    };
}

/// <summary>A batch of normalized images [Count, C, H, W] and labels, on the host.</summary>
public sealed class Batch(float[] images, int[] labels)
{
    public float[] Images { get; } = images;
    public int[] Labels { get; } = labels;
    public int Count { get; internal set; }
    public int[] Shape { get; internal set; } = [];

    public ReadOnlySpan<float> ImageData => Images.AsSpan(0, Count * (Images.Length / Labels.Length));
    public ReadOnlySpan<int> LabelData => Labels.AsSpan(0, Count);
}

/// <summary>
/// Batches a dataset: seeded shuffling per epoch (the same seed and epoch give the same order),
/// normalization, augmentation, and preparation of the next batches on a background thread while the
/// model computes on the current one. A batch stays valid until the enumerator moves on; its arrays
/// are recycled after that (no allocation per batch).
/// </summary>
public sealed class DataLoader(Dataset data, int batchSize, Normalization normalization, bool shuffle = false,
                               ulong seed = 0, Augmentation? augmentation = null, bool dropLast = false)
{
    const int Prefetch = 2, Ring = Prefetch + 3;

    public Dataset Data { get; } = data;
    public int BatchSize { get; } = batchSize > 0 ? batchSize : throw new ArgumentException($"batch size {batchSize} must be positive");

    public int BatchesPerEpoch => dropLast ? Data.Count / BatchSize : (Data.Count + BatchSize - 1) / BatchSize;

    public IEnumerable<Batch> Epoch(int epoch)
    {
        if (normalization.Mean.Length != Data.Channels)
            throw new ArgumentException($"normalization has {normalization.Mean.Length} channels, {Data.Name} has {Data.Channels}");
        var order = shuffle ? new Generator(seed * 1_000_003UL + (ulong)epoch).Permutation(Data.Count) : Enumerable.Range(0, Data.Count).ToArray();
        var augmentRng = new Generator(seed * 1_000_003UL + (ulong)epoch + 0x5EED);
        var ring = new Batch[Ring];
        for (int i = 0; i < Ring; i++) ring[i] = new Batch(new float[BatchSize * Data.ImageSize], new int[BatchSize]);

        using var queue = new BlockingCollection<Batch>(Prefetch);
        using var cancel = new CancellationTokenSource();
        var producer = Task.Run(() =>
        {
            try
            {
                for (int b = 0; b < BatchesPerEpoch && !cancel.IsCancellationRequested; b++)
                {
                    var batch = ring[b % Ring];
                    Fill(batch, order.AsSpan(b * BatchSize, Math.Min(BatchSize, Data.Count - b * BatchSize)), augmentRng);
                    queue.Add(batch, cancel.Token);
                }
            }
            catch (OperationCanceledException) { }
            finally { queue.CompleteAdding(); }
        });
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable()) yield return batch;
        }
        finally
        {
            cancel.Cancel();
            try { producer.Wait(); } catch (AggregateException) { }
        }
        producer.GetAwaiter().GetResult(); // surface producer exceptions
    }

    void Fill(Batch batch, ReadOnlySpan<int> indices, Generator rng)
    {
        int c = Data.Channels, h = Data.Height, w = Data.Width, size = Data.ImageSize;
        var aug = augmentation ?? Augmentation.None;
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            batch.Labels[i] = Data.Labels[index];
            var source = Data.Image(index);
            var target = batch.Images.AsSpan(i * size, size);
            int dy = 0, dx = 0;
            bool flip = false;
            if (!aug.IsNone)
            {
                int p = aug.CropPadding;
                if (p > 0) { dy = rng.NextInt(2 * p + 1) - p; dx = rng.NextInt(2 * p + 1) - p; }
                flip = aug.HorizontalFlip && rng.NextUniform() < 0.5f;
            }
            for (int ch = 0; ch < c; ch++)
            {
                float zero = normalization.Apply(0, ch);
                for (int y = 0; y < h; y++)
                {
                    int sy = y + dy;
                    for (int x = 0; x < w; x++)
                    {
                        int sx = (flip ? w - 1 - x : x) + dx;
                        target[(ch * h + y) * w + x] = (uint)sy < (uint)h && (uint)sx < (uint)w
                            ? normalization.Apply(source[(ch * h + sy) * w + sx], ch)
                            : zero;
                    }
                }
            }
        }
        batch.Count = indices.Length;
        batch.Shape = [indices.Length, c, h, w];
    }
}
