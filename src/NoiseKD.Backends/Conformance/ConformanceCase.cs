namespace NoiseKD.Backends.Conformance;

/// <summary>
/// One primitive call under test: <see cref="Run"/> draws its inputs from the context (the same values on
/// every backend), calls the primitive and returns the outputs read back. <see cref="Op"/> is the
/// IBackend method's name, which `check --ops` selects on.
/// </summary>
public sealed record ConformanceCase(string Op, string Shape, double Tolerance, Func<ConformanceContext, float[][]> Run)
{
    public string Name => $"{Op} {Shape}";
}

/// <summary>What a case ran into: its normalized error against the reference and the tolerance, or the exception it threw.</summary>
public sealed record ConformanceResult(ConformanceCase Case, double Error, string? Failure = null)
{
    public bool Passed => Failure is null && Error <= Case.Tolerance;
}
