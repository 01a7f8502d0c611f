using NoiseKD.Autograd;
using NoiseKD.Tensors;

namespace NoiseKD.Functional;

public static partial class F
{
    /// <summary>Same data, new shape (one entry may be -1). Shares memory with x.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var y = x.View(Shape.Resolve(shape, x.Numel));
        return Tape.Record(y, "Reshape", [x], gy => AccumulateGrad(x, gy));
    }

    /// <summary>torch.flatten(x, startDim): merges the axes from startDim on.</summary>
    public static Tensor Flatten(Tensor x, int startDim = 1)
    {
        if (startDim < 0) startDim += x.Rank;
        if (startDim < 0 || startDim > x.Rank) throw new ArgumentException($"flatten: start {startDim} outside rank {x.Rank}");
        if (startDim == x.Rank) return x;
        var shape = x.Shape[..startDim].Append(-1).ToArray();
        return Reshape(x, shape);
    }

    /// <summary>torch.cat along <paramref name="dim"/>: all other dimensions must agree.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int dim = 1)
    {
        if (tensors.Count == 0) throw new ArgumentException("concat: no tensors");
        var first = tensors[0];
        if (dim < 0) dim += first.Rank;
        if (dim < 0 || dim >= first.Rank) throw new ArgumentException($"concat: dim {dim} outside rank {first.Rank}");
        int total = 0;
        foreach (var t in tensors)
        {
            RequireSameDevice(first, t, "concat");
            bool fits = t.Rank == first.Rank;
            for (int i = 0; fits && i < t.Rank; i++) fits = i == dim || t.Shape[i] == first.Shape[i];
            if (!fits) throw new ArgumentException($"concat: {Shape.Format(t.Shape)} does not match {Shape.Format(first.Shape)} outside dim {dim}");
            total += t.Shape[dim];
        }
        var shape = (int[])first.Shape.Clone();
        shape[dim] = total;
        var y = Like(first, shape);

        // Viewed as [outer, size(dim) * inner]: each input is a column block of the output.
        long outer = Shape.Numel(first.Shape.AsSpan(0, dim));
        long inner = Shape.Numel(first.Shape.AsSpan(dim + 1));
        long rowOut = total * inner, column = 0;
        var columns = new long[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            long rowIn = t.Shape[dim] * inner;
            columns[i] = column;
            y.Backend.CopyBlocks(t.Buffer, 0, rowIn, y.Buffer, column, rowOut, outer, rowIn);
            column += rowIn;
        }
        return Tape.Record(y, "Concat", tensors.ToArray(), gy =>
        {
            for (int i = 0; i < tensors.Count; i++)
            {
                var t = tensors[i];
                if (!t.RequiresGrad) continue;
                long rowIn = t.Shape[dim] * inner;
                var (gx, accumulate) = t.GradSink();
                if (!accumulate)
                {
                    t.Backend.CopyBlocks(gy.Buffer, columns[i], rowOut, gx.Buffer, 0, rowIn, outer, rowIn);
                    continue;
                }
                using var part = t.Backend.Allocate(t.Numel);
                t.Backend.CopyBlocks(gy.Buffer, columns[i], rowOut, part, 0, rowIn, outer, rowIn);
                t.Backend.Axpby(1f, part, 1f, gx.Buffer, t.Numel);
            }
        });
    }
}
