using System.Runtime.InteropServices;

namespace NoiseKD.Training;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM (kill, Slurm's time limit) ask a run to stop cleanly: the trainers finish
/// the step they are in, write a checkpoint holding the position inside the epoch, and end with
/// <see cref="RunStoppedException"/> (exit 130 / 143). A second signal stops the process at once; the
/// checkpoint on disk is then the last one written whole (every write is atomic).
/// </summary>
public static class StopSignal
{
    static volatile int _signal;

    /// <summary>The signal number received (2 or 15), or 0 while none was.</summary>
    public static int Received => _signal;

    public static bool Requested => _signal != 0;

    /// <summary>Handles both signals until disposed (only the long-running verbs install it, so Ctrl-C still ends the others at once).</summary>
    public static IDisposable Install()
    {
        _signal = 0;
        var registrations = new[]
        {
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        };
        return new Registrations(registrations);
    }

    /// <summary>Asks the run to stop after its current step, as the first signal does; false if a stop was already asked for.</summary>
    public static bool Request(int signal) => Interlocked.CompareExchange(ref _signal, signal, 0) == 0;

    static void Handle(PosixSignalContext context)
    {
        int number = context.Signal == PosixSignal.SIGINT ? 2 : 15;
        context.Cancel = true;
        if (!Request(number))
        {
            Console.Error.WriteLine($"noisekd: second {Name(number)}: stopping now; the last checkpoint written is kept");
            Environment.Exit(128 + number);
        }
        Console.Error.WriteLine($"noisekd: {Name(number)} received: finishing the current step and writing a checkpoint (send it again to stop at once)");
    }

    /// <summary>
    /// A test hook that stands for a slow stop (a checkpoint going to a slow or network file system): with
    /// NOISEKD_TEST_STOP_DELAY_SECONDS set, a stopping run waits that long before its stop checkpoint, so a test
    /// can send the second signal inside the first one's stop on any machine load. Unset, it does nothing.
    /// </summary>
    public static void DelayForTests()
    {
        if (double.TryParse(Environment.GetEnvironmentVariable("NOISEKD_TEST_STOP_DELAY_SECONDS"), System.Globalization.NumberStyles.Float,
                            System.Globalization.CultureInfo.InvariantCulture, out double seconds) && seconds > 0)
            Thread.Sleep(TimeSpan.FromSeconds(seconds));
    }

    public static string Name(int number) => number == 2 ? "SIGINT" : number == 15 ? "SIGTERM" : $"signal {number}";

    sealed class Registrations(PosixSignalRegistration[] all) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in all) r.Dispose();
            _signal = 0;
        }
    }
}

/// <summary>A run stopped on a signal after writing its checkpoint; the command line exits with 128 + the signal number.</summary>
public sealed class RunStoppedException(int signal, string checkpoint, int epoch, int step) : Exception(
    $"stopped by {StopSignal.Name(signal)} at epoch {epoch}, step {step}, with a checkpoint in '{checkpoint}'; " +
    "run the same command with --resume to continue (quickstart and study continue by themselves)")
{
    public int Signal { get; } = signal;
    public int ExitCode => 128 + Signal;
}
