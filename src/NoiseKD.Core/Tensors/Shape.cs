namespace NoiseKD.Tensors;

/// <summary>Helpers for shapes stored as int arrays (row-major, last axis contiguous).</summary>
public static class Shape
{
    public static long Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"shape {Format(shape)} has a negative dimension");
            n *= d;
        }
        return n;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>Resolves one -1 entry from the element count, as torch.reshape does.</summary>
    public static int[] Resolve(ReadOnlySpan<int> shape, long numel)
    {
        var result = shape.ToArray();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < result.Length; i++)
        {
            if (result[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"reshape {Format(shape)}: only one dimension may be -1");
                infer = i;
            }
            else if (result[i] < 0) throw new ArgumentException($"reshape {Format(shape)}: negative dimension");
            else known *= result[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || numel % known != 0)
                throw new ArgumentException($"reshape {Format(shape)}: cannot infer -1 for {numel} elements");
            result[infer] = (int)(numel / known);
        }
        if (Numel(result) != numel)
            throw new ArgumentException($"reshape to {Format(shape)} needs {Numel(result)} elements, tensor has {numel}");
        return result;
    }
}
