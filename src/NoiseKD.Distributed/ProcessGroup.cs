using System.Diagnostics;
using System.Globalization;
using NoiseKD.Distributed.Mpi;

namespace NoiseKD.Distributed;

/// <summary>
/// MPI_COMM_WORLD of a job started by mpirun/mpiexec (or srun), with a deadline on every wait: MPI itself
/// waits forever for a rank that died or never reaches the same call. Collectives are started non-blocking
/// and polled with MPI_Test (which also drives progress), yielding the core between polls and sleeping
/// 1 ms between them once a wait is longer than 100 ms.
/// </summary>
public sealed class ProcessGroup : IProcessGroup, IDisposable
{
    /// <summary>Seconds a rank waits for the others in one collective before it gives up (NOISEKD_MPI_TIMEOUT).</summary>
    public const double DefaultTimeoutSeconds = 300;

    readonly Mpi.Mpi _mpi;
    bool _broken;

    ProcessGroup(Mpi.Mpi mpi, double timeoutSeconds)
    {
        _mpi = mpi;
        TimeoutSeconds = timeoutSeconds;
    }

    /// <summary>The job this process belongs to, once <see cref="Join"/> found one.</summary>
    public static ProcessGroup? Current { get; private set; }

    public int Rank => _mpi.Rank;
    public int Size => _mpi.Size;
    public MpiAbi Abi => _mpi.Abi;
    public double TimeoutSeconds { get; }

    /// <summary>
    /// Whether this process was asked to stop (the run's stop signal). mpirun sends SIGTERM to every rank
    /// when one dies; a rank then waiting for the dead one gives up after <see cref="StopWaitSeconds"/>
    /// instead of waiting out the timeout (where the launcher does not end it first).
    /// </summary>
    public Func<bool> StopRequested { get; set; } = () => false;

    /// <summary>
    /// How long a rank asked to stop still waits in a collective: on a graceful stop (Ctrl-C on mpirun reaches
    /// every rank) the others arrive within a step, so only a step longer than this is cut short.
    /// </summary>
    public const double StopWaitSeconds = 10;

    /// <summary>The binding underneath, for benchmarks.</summary>
    public Mpi.Mpi Mpi => _mpi;

    /// <summary>
    /// Joins the MPI job the launcher started, or returns null for a process started without one (it
    /// then runs without MPI at all). See <see cref="Launcher.Detect"/> for how the ABI is chosen.
    /// </summary>
    public static ProcessGroup? Join()
    {
        if (Current is not null) return Current;
        var abi = Launcher.Detect();
        if (abi is null) return null;
        double timeout = DefaultTimeoutSeconds;
        var text = Environment.GetEnvironmentVariable("NOISEKD_MPI_TIMEOUT");
        if (!string.IsNullOrEmpty(text) && (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out timeout) || timeout <= 0))
            throw new ArgumentException($"NOISEKD_MPI_TIMEOUT '{text}' must be a positive number of seconds");
        var library = Environment.GetEnvironmentVariable("NOISEKD_MPI_LIBRARY");
        Current = new ProcessGroup(NoiseKD.Distributed.Mpi.Mpi.Init(abi.Value, string.IsNullOrEmpty(library) ? null : library), timeout);
        return Current;
    }

    /// <summary>Sum in place over every rank.</summary>
    public void AllReduceSum(double[] values, string what) => Await(_mpi.Iallreduce(values, values.Length, MpiOp.Sum), what);

    public void AllReduce<T>(T[] values, MpiOp op, string what) where T : unmanaged => Await(_mpi.Iallreduce(values, values.Length, op), what);

    /// <summary>Starts a sum over values[0..count); complete it with <see cref="Await"/>.</summary>
    public MpiRequest StartAllReduceSum(float[] values, int count) => _mpi.Iallreduce(values, count, MpiOp.Sum);

    /// <summary>Rank 0's values onto every rank.</summary>
    public void Broadcast<T>(T[] values, string what) where T : unmanaged => Await(_mpi.Ibcast(values, 0), what);

    public void Barrier(string what) => Await(_mpi.Ibarrier(), what);

    /// <summary>Polls <paramref name="request"/> until it completes or the deadline passes.</summary>
    public void Await(MpiRequest request, string what)
    {
        var clock = Stopwatch.StartNew();
        for (int polls = 0; !request.Test(); polls++)
        {
            // Every MPI_Test moves a large message's pipeline on (no progress thread), so the first 100 ms poll
            // back to back, yielding the core to a computing rank where ranks outnumber cores; a longer wait
            // (a slower rank, an evaluation) sleeps between polls instead of spinning.
            if (clock.ElapsedTicks > Stopwatch.Frequency / 10) Thread.Sleep(1);
            else if (polls > 20) Thread.Yield();
            if (clock.Elapsed.TotalSeconds > TimeoutSeconds)
            {
                _broken = true;
                throw new MpiTimeoutException($"rank {Rank} waited {TimeoutSeconds:0.#} s for the other ranks during {what}: a rank died, hangs or runs " +
                                              "something else (NOISEKD_MPI_TIMEOUT sets the limit); the last checkpoint written is kept");
            }
            if (clock.Elapsed.TotalSeconds > StopWaitSeconds && StopRequested())
            {
                _broken = true;
                throw new MpiTimeoutException($"rank {Rank} was stopped by a signal while waiting for the other ranks during {what} (a rank has ended); " +
                                              "the last checkpoint written is kept");
            }
        }
    }

    /// <summary>
    /// How the process leaves the job. After success, or a failure every rank reached (all of them arrive at
    /// a barrier within a few seconds), MPI_Finalize and the exit code; otherwise MPI_Abort, which makes the
    /// launcher end every rank, so that no rank is left waiting for one that has gone. A rank whose wait
    /// already failed aborts at once.
    /// </summary>
    public int Leave(int exitCode)
    {
        if (exitCode == 0 || Size == 1)
        {
            _mpi.Shutdown();
            return exitCode;
        }
        if (_broken)
        {
            Console.Error.Flush();
            _mpi.Abort(exitCode);
            return exitCode;
        }
        var barrier = _mpi.Ibarrier();
        var clock = Stopwatch.StartNew();
        while (!barrier.Test() && clock.Elapsed.TotalSeconds < Math.Min(10, TimeoutSeconds)) Thread.Sleep(1);
        if (barrier.IsCompleted)
        {
            _mpi.Shutdown();
            return exitCode;
        }
        Console.Error.Flush();
        _mpi.Abort(exitCode);
        return exitCode;
    }

    public void Dispose() => _mpi.Shutdown();
}
