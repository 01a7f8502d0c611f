using CommandLine;
using NoiseKD.Cli.Commands;
using NoiseKD.Data;
using NoiseKD.Serialization;
using NoiseKD.Training;

namespace NoiseKD.Cli;

/// <summary>
/// `noisekd VERB [options]`. Errors a user can cause end in one sentence on stderr and exit code 2;
/// anything else is a bug and keeps its stack trace.
/// </summary>
public static class Program
{
    public const int UserError = 2;

    /// <summary>Every verb, in the order `noisekd --help` lists them.</summary>
    static readonly Type[] Verbs =
    [
        typeof(QuickstartCommand), typeof(TrainCommand), typeof(EvalCommand), typeof(DistillCommand), typeof(StudyCommand),
        typeof(BnReportCommand), typeof(InferCommand), typeof(ImportCommand), typeof(BenchCommand), typeof(DevicesCommand), typeof(CheckCommand), typeof(KernelsCommand),
    ];

    public static int Main(string[] args)
    {
        var parser = new Parser(s =>
        {
            s.HelpWriter = Console.Error;
            s.CaseInsensitiveEnumValues = true;
            s.AutoVersion = false;
        });
        var result = parser.ParseArguments(args, Verbs);
        if (result is NotParsed<object> notParsed)
            return notParsed.Errors.All(e => e is HelpVerbRequestedError or HelpRequestedError) ? 0 : UserError;
        var command = (ICommand)((Parsed<object>)result).Value;
        try
        {
            return command.Run();
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"noisekd: error: {e.Message}");
            return UserError;
        }
    }

    static bool IsUserError(Exception e) => e is ArgumentException or DataFormatException or SafetensorsException
        or NonFiniteLossException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException;
}
