namespace NoiseKD.Distributed.Mpi;

/// <summary>An MPI call that failed, or a library that could not be loaded; the message is one sentence.</summary>
public class MpiException(string message) : Exception(message);

/// <summary>
/// A collective that did not complete within the timeout: another rank died, hangs, or never reached the
/// same call. MPI has no timeout of its own, so without this a job would wait forever.
/// </summary>
public sealed class MpiTimeoutException(string message) : MpiException(message);
