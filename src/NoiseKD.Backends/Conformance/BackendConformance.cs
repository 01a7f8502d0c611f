namespace NoiseKD.Backends.Conformance;

/// <summary>
/// Compares a device with a reference backend (the CPU) primitive by primitive, in the spirit of ggml's
/// test-backend-ops: every case of <see cref="ConformanceCases.All"/> runs on both with the same inputs,
/// and the outputs are compared by normalized error ||a - b|| / ||b||. Used by `noisekd check` and by
/// the test suite.
/// </summary>
public static class BackendConformance
{
    /// <summary>The cases whose op is named in <paramref name="ops"/> (all when null or empty); op names are case-insensitive.</summary>
    public static IReadOnlyList<ConformanceCase> Select(IReadOnlyCollection<string>? ops)
    {
        if (ops is null || ops.Count == 0) return ConformanceCases.All;
        var known = ConformanceCases.All.Select(c => c.Op).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = ops.Where(o => !known.Contains(o)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"unknown op(s) {string.Join(", ", unknown)}; ops: {string.Join(", ", known.Order())}");
        var wanted = ops.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return ConformanceCases.All.Where(c => wanted.Contains(c.Op)).ToList();
    }

    public static IEnumerable<ConformanceResult> Run(IReadOnlyList<ConformanceCase> cases, IBackend device, IBackend reference, int seed)
        => cases.Select(c => Run(c, device, reference, seed));

    public static ConformanceResult Run(ConformanceCase testCase, IBackend device, IBackend reference, int seed)
    {
        int caseSeed = StableSeed(testCase.Name, seed);
        float[][] expected, actual;
        using (var context = new ConformanceContext(reference, caseSeed)) expected = testCase.Run(context);
        try
        {
            using var context = new ConformanceContext(device, caseSeed);
            actual = testCase.Run(context);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new ConformanceResult(testCase, double.NaN, $"{e.GetType().Name}: {e.Message}");
        }
        if (actual.Length != expected.Length) return new ConformanceResult(testCase, double.NaN, "different number of outputs");
        double error = 0;
        for (int i = 0; i < actual.Length; i++) error = Math.Max(error, NormalizedError(actual[i], expected[i]));
        return new ConformanceResult(testCase, error);
    }

    /// <summary>
    /// ||a - b|| / ||b|| (||a - b|| when b is zero), in double. Elements where both hold the same
    /// non-finite value count as equal; any other NaN makes the error NaN (a failure).
    /// </summary>
    public static double NormalizedError(float[] a, float[] b)
    {
        if (a.Length != b.Length) return double.NaN;
        double diff = 0, norm = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (!float.IsFinite(b[i]) && a[i].Equals(b[i])) continue;
            double d = (double)a[i] - b[i];
            diff += d * d;
            norm += (double)b[i] * b[i];
        }
        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    /// <summary>FNV-1a of the case name mixed with the run's seed (string.GetHashCode is randomized per process).</summary>
    static int StableSeed(string name, int seed)
    {
        uint h = 2166136261u ^ (uint)seed;
        foreach (char ch in name) h = (h ^ ch) * 16777619;
        return (int)(h & 0x7FFFFFFF);
    }
}
