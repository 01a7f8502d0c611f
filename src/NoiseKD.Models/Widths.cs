namespace NoiseKD.Models;

/// <summary>Channel scaling by a width multiplier: round(c * w), at least 1. Names never change with width.</summary>
internal static class Widths
{
    public static int Scale(int channels, float width)
    {
        if (!(width > 0f)) throw new ArgumentException($"width multiplier {width} must be positive");
        return Math.Max(1, (int)MathF.Round(channels * width));
    }
}
