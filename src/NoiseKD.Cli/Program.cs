using CommandLine;
using NoiseKD.Cli.Commands;
using NoiseKD.Data;
using NoiseKD.Distributed;
using NoiseKD.IO;
using NoiseKD.Serialization;
using NoiseKD.Training;

namespace NoiseKD.Cli;

/// <summary>
/// `noisekd VERB [options]`. Errors a user can cause end in one sentence on stderr and exit code 2;
/// the machine refusing a write (no space, permission, read-only, a path that is a file, a vanished
/// folder) in one sentence and exit code 3; a run folder locked by another process in one sentence naming
/// its pid and exit code 4; a run stopped by SIGINT/SIGTERM after its checkpoint with 130/143; anything else is a bug and keeps its stack trace.
/// </summary>
public static class Program
{
    public const int UserError = 2;
    public const int EnvironmentError = 3;
    public const int RunFolderInUse = 4;

    /// <summary>Every verb, in the order `noisekd --help` lists them.</summary>
    static readonly Type[] Verbs =
    [
        typeof(QuickstartCommand), typeof(TrainCommand), typeof(EvalCommand), typeof(DistillCommand), typeof(StudyCommand),
        typeof(BnReportCommand), typeof(DataCommand), typeof(InferCommand), typeof(ImportCommand), typeof(ExportCommand), typeof(BenchCommand), typeof(DevicesCommand), typeof(CheckCommand), typeof(KernelsCommand),
    ];

    /// <summary>A rank of an MPI job (train, distill under mpirun) leaves it with its exit code (<see cref="ProcessGroup.Leave"/>).</summary>
    public static int Main(string[] args)
    {
        // NOISEKD_PROFILE=1: any command accounts time per op (leaf-module forwards, backward ops) and prints the totals on stderr at the end.
        bool profile = Environment.GetEnvironmentVariable("NOISEKD_PROFILE") is "1";
        if (profile) NoiseKD.Autograd.OpProfiler.Reset();
        NoiseKD.Autograd.OpProfiler.Enabled = profile;
        int code = Dispatch(args);
        if (profile) PrintProfile();
        return ProcessGroup.Current?.Leave(code) ?? code;
    }

    static void PrintProfile()
    {
        var ops = NoiseKD.Autograd.OpProfiler.Snapshot();
        double total = ops.Sum(o => o.Ms);
        Console.Error.WriteLine($"NOISEKD_PROFILE: {total / 1000:F1} s in {ops.Count} ops (wall time of leaf forwards and backward ops; nested work is counted once)");
        foreach (var (name, ms, calls) in ops.Take(40))
            Console.Error.WriteLine($"{ms / 1000,9:F2} s {ms / Math.Max(total, 1e-9) * 100,5:F1}%  {calls,9} calls  {name}");
    }

    static int Dispatch(string[] args)
    {
        if (args is ["--version"] or ["version"])
        {
            Console.WriteLine($"noisekd {RunConfig.Version.Split('+')[0]} (commit {RunConfig.Commit})");
            return 0;
        }
        args = [.. args.Select(a => a == "-h" ? "--help" : a)]; // no option has a one-letter name, so -h can only mean help
        var result = NewParser(helpWriter: null).ParseArguments(args, Verbs);
        if (result is NotParsed<object> notParsed)
        {
            if (notParsed.Errors.All(e => e is HelpVerbRequestedError or HelpRequestedError))
            {
                // Asked-for help is the output, so it goes to stdout; the parser writes it when given a writer.
                NewParser(Console.Out).ParseArguments(args, Verbs);
                return 0;
            }
            Console.Error.WriteLine($"noisekd: error: {UsageErrors.Describe(notParsed.Errors.First(), args, Verbs)}");
            return UserError;
        }
        var command = (ICommand)((Parsed<object>)result).Value;
        RunConfig.CommandLine = string.Join(" ", new[] { "noisekd" }.Concat(args.Select(Quoted)));
        // A --data-root that does not exist would otherwise fall through to the default roots and train on other data.
        if (command is CommonOptions { DataRoot: { } root } && !Directory.Exists(root))
        {
            Console.Error.WriteLine($"noisekd: error: --data-root '{root}' does not exist (give the folder holding the dataset folders, e.g. DIR with DIR/fashion-mnist/)");
            return UserError;
        }
        if (command is CommonOptions { LogInterval: <= 0 } bad)
        {
            Console.Error.WriteLine($"noisekd: error: --log-interval {bad.LogInterval} must be a positive number of steps");
            return UserError;
        }
        (ConsoleProgress.LogInterval, ConsoleProgress.Quiet) = command is CommonOptions o ? (o.LogInterval, o.Quiet) : (null, false);
        // A command that needs CIFAR-10 fetches it the first time (as ./noisekd installs Fashion-MNIST); NOISEKD_NO_INSTALL=1 turns it off.
        var autoFetch = DatasetCatalog.AutoFetchLog;
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOISEKD_NO_INSTALL"))) DatasetCatalog.AutoFetchLog = line => Console.Error.WriteLine(line);
        // The long runs stop cleanly on SIGINT/SIGTERM (a checkpoint, then exit 130/143); the short verbs keep the default.
        using var stop = command is TrainCommand or DistillCommand or QuickstartCommand or StudyCommand ? StopSignal.Install() : null;
        try
        {
            return command.Run();
        }
        catch (RunStoppedException e)
        {
            Console.Error.WriteLine($"noisekd: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"noisekd: error: {e.Message}");
            return UserError;
        }
        catch (Distributed.Mpi.MpiException e)
        {
            // MPI missing or failing, or a rank that stopped answering: the job's environment, not a bug.
            Console.Error.WriteLine($"noisekd: error: {e.Message}");
            return EnvironmentError;
        }
        catch (RunLockedException e)
        {
            Console.Error.WriteLine($"noisekd: error: {e.Message}");
            return RunFolderInUse;
        }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
        {
            // Any I/O failure not already named by AtomicFile (a folder vanishing under a study, say) is still the machine's, not a bug.
            Console.Error.WriteLine($"noisekd: error: {OneSentence(e)}");
            return EnvironmentError;
        }
        finally
        {
            DatasetCatalog.AutoFetchLog = autoFetch; // in-process callers (the tests) keep their own setting
        }
    }

    static Parser NewParser(TextWriter? helpWriter) => new(s =>
    {
        s.HelpWriter = helpWriter;
        s.CaseInsensitiveEnumValues = true;
        s.AutoVersion = false;
    });

    /// <summary>An argument as a shell would need it written (config.json records the command line).</summary>
    static string Quoted(string arg) => arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,+@%".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''") + "'";

    static string OneSentence(Exception e) => e is StorageException ? e.Message : StorageException.Cause(e);

    static bool IsUserError(Exception e) => e is ArgumentException or DataFormatException or SafetensorsException
        or NonFiniteLossException or DatasetFetchException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException;
}
