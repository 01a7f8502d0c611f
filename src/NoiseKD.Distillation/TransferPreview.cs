using NoiseKD.Data;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation;

/// <summary>
/// The picture of a transfer set that goes next to a run: for a fixed (balanced or unbalanced) set, one row
/// per teacher-predicted class; otherwise the first batch the student saw, drawn again from a copy of the
/// source made with the run's seed (the run's own source is not advanced).
/// </summary>
public static class TransferPreview
{
    public const int Columns = 8, BatchRows = 4;

    /// <summary>The first <see cref="Columns"/> x <see cref="BatchRows"/> images of the first batch of <paramref name="freshCopy"/>.</summary>
    public static ImageGrid FirstBatch(TransferSet freshCopy, int batchSize, Normalization normalization)
    {
        using var scope = new TensorScope();
        var batch = freshCopy.Next(batchSize);
        var (c, h, w) = (batch.Shape[1], batch.Shape[2], batch.Shape[3]);
        var pixels = batch.ToArray();
        var grid = new ImageGrid(c, h, w, normalization);
        int per = c * h * w;
        for (int r = 0; r < BatchRows && r * Columns < batchSize; r++)
            grid.AddRow(pixels.AsSpan(r * Columns * per, Math.Min(Columns, batchSize - r * Columns) * per));
        return grid;
    }

    /// <summary>Row k: up to <see cref="Columns"/> images the teacher assigns to class k (empty where it assigns none).</summary>
    public static ImageGrid ByClass(BalancedTransfer set, int classes, int channels, int size, Normalization normalization)
    {
        var grid = new ImageGrid(channels, size, size, normalization);
        for (int k = 0; k < classes; k++) grid.AddRow(set.ImagesOfClass(k, Columns));
        return grid;
    }
}
