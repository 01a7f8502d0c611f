namespace NoiseKD.Data;

/// <summary>
/// The toy two-circles problem (scikit-learn's make_circles): class 0 on the unit circle, class 1 on a
/// circle of radius <c>factor</c>, both with Gaussian noise. Points are float pairs, not images.
/// </summary>
public static class TwoCircles
{
    public static (float[] Points, int[] Labels) Generate(int count, float noise = 0.05f, float factor = 0.5f, ulong seed = 0)
    {
        if (count < 2) throw new ArgumentException("two circles needs at least 2 points");
        var gen = new Tensors.Generator(seed);
        var points = new float[count * 2];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int label = i % 2;
            float angle = 2f * MathF.PI * gen.NextUniform(), radius = label == 0 ? 1f : factor;
            points[2 * i] = radius * MathF.Cos(angle) + noise * gen.NextNormal();
            points[2 * i + 1] = radius * MathF.Sin(angle) + noise * gen.NextNormal();
            labels[i] = label;
        }
        return (points, labels);
    }
}
