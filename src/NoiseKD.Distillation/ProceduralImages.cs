using NoiseKD.Tensors;

namespace NoiseKD.Distillation;

/// <summary>
/// Synthetic images with nothing to do with any dataset (Nayak et al. 2021 use such sources as transfer
/// sets): random shapes, plasma (fractal value noise), and dead leaves (occluding disks with a power-law
/// radius distribution, Lee, Mumford &amp; Huang 2001). Pixels in [0, 1], planes [C, size, size].
/// </summary>
public static class ProceduralImages
{
    public static readonly string[] Kinds = ["shapes", "plasma", "dead-leaves"];

    public static void Draw(string kind, Generator g, int channels, int size, Span<float> output)
    {
        switch (kind)
        {
            case "shapes": Shapes(g, channels, size, output); break;
            case "plasma": Plasma(g, channels, size, output); break;
            case "dead-leaves": DeadLeaves(g, channels, size, output); break;
            default: throw new ArgumentException($"procedural kind '{kind}' must be one of {string.Join(", ", Kinds)}");
        }
    }

    /// <summary>A random background with 1 to 5 filled rectangles, ellipses or thick lines of random colours.</summary>
    static void Shapes(Generator g, int channels, int size, Span<float> output)
    {
        int plane = size * size;
        for (int c = 0; c < channels; c++) output.Slice(c * plane, plane).Fill(g.NextUniform());
        int shapes = 1 + g.NextInt(5);
        Span<float> colour = stackalloc float[channels];
        for (int s = 0; s < shapes; s++)
        {
            for (int c = 0; c < channels; c++) colour[c] = g.NextUniform();
            int kind = g.NextInt(3);
            float cx = g.NextUniform() * size, cy = g.NextUniform() * size;
            float rx = (0.1f + 0.4f * g.NextUniform()) * size, ry = (0.1f + 0.4f * g.NextUniform()) * size;
            float angle = g.NextUniform() * MathF.PI, cos = MathF.Cos(angle), sin = MathF.Sin(angle);
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    float dx = x + 0.5f - cx, dy = y + 0.5f - cy;
                    float u = dx * cos + dy * sin, v = -dx * sin + dy * cos;
                    bool inside = kind switch
                    {
                        0 => MathF.Abs(u) <= rx && MathF.Abs(v) <= ry,
                        1 => u * u / (rx * rx) + v * v / (ry * ry) <= 1,
                        _ => MathF.Abs(v) <= 1 + 0.08f * ry && MathF.Abs(u) <= rx * 1.5f,
                    };
                    if (inside) for (int c = 0; c < channels; c++) output[c * plane + y * size + x] = colour[c];
                }
        }
    }

    /// <summary>Sum of value-noise octaves (random grids at 2, 4, 8, ... cells, bilinear, amplitude halving), rescaled to [0, 1].</summary>
    static void Plasma(Generator g, int channels, int size, Span<float> output)
    {
        int plane = size * size;
        output[..(channels * plane)].Clear();
        for (int c = 0; c < channels; c++)
        {
            var p = output.Slice(c * plane, plane);
            float amplitude = 1f;
            for (int cells = 2; cells <= size; cells *= 2, amplitude *= 0.5f)
            {
                var grid = new float[(cells + 1) * (cells + 1)];
                for (int i = 0; i < grid.Length; i++) grid[i] = g.NextUniform();
                for (int y = 0; y < size; y++)
                {
                    float gy = y * cells / (float)size;
                    int y0 = (int)gy;
                    float fy = gy - y0;
                    for (int x = 0; x < size; x++)
                    {
                        float gx = x * cells / (float)size;
                        int x0 = (int)gx;
                        float fx = gx - x0;
                        float v = (1 - fy) * ((1 - fx) * grid[y0 * (cells + 1) + x0] + fx * grid[y0 * (cells + 1) + x0 + 1])
                                + fy * ((1 - fx) * grid[(y0 + 1) * (cells + 1) + x0] + fx * grid[(y0 + 1) * (cells + 1) + x0 + 1]);
                        p[y * size + x] += amplitude * v;
                    }
                }
            }
            float min = float.MaxValue, max = float.MinValue;
            foreach (float v in p) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
            for (int i = 0; i < plane; i++) p[i] = (p[i] - min) / MathF.Max(max - min, 1e-6f);
        }
    }

    /// <summary>Disks with radius density proportional to r^-3 on [1, size/2], painted one over another.</summary>
    static void DeadLeaves(Generator g, int channels, int size, Span<float> output)
    {
        int plane = size * size;
        Span<float> colour = stackalloc float[channels];
        for (int c = 0; c < channels; c++) output.Slice(c * plane, plane).Fill(g.NextUniform());
        float rMin = 1f, rMax = size / 2f;
        int disks = 8 * size;
        for (int d = 0; d < disks; d++)
        {
            // Inverse CDF of p(r) ~ r^-3 on [rMin, rMax].
            float u = g.NextUniform();
            float r = 1f / MathF.Sqrt(1f / (rMin * rMin) - u * (1f / (rMin * rMin) - 1f / (rMax * rMax)));
            float cx = g.NextUniform() * size, cy = g.NextUniform() * size;
            for (int c = 0; c < channels; c++) colour[c] = g.NextUniform();
            int y0 = Math.Max(0, (int)(cy - r)), y1 = Math.Min(size - 1, (int)(cy + r)), x0 = Math.Max(0, (int)(cx - r)), x1 = Math.Min(size - 1, (int)(cx + r));
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                {
                    float dx = x + 0.5f - cx, dy = y + 0.5f - cy;
                    if (dx * dx + dy * dy <= r * r) for (int c = 0; c < channels; c++) output[c * plane + y * size + x] = colour[c];
                }
        }
    }
}
