using Spectre.Console;
using NoiseKD.Training;

namespace NoiseKD.Cli;

/// <summary>
/// Live progress for long runs: a bar with ETA, loss, accuracy and images/s on a terminal (Spectre.Console).
/// When the output is redirected (logs, CI): one plain line per epoch, and a step line every
/// <see cref="LogInterval"/> steps (by default about every 30 seconds) so a log shows the run is alive.
/// <see cref="Quiet"/> keeps only messages (the run's header, warnings) and the verb's result.
/// </summary>
public sealed class ConsoleProgress : IProgress
{
    ProgressTask? _task;
    ProgressContext? _context;
    int _epoch, _epochs, _batches;
    readonly System.Diagnostics.Stopwatch _sinceLine = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>Steps between plain progress lines (--log-interval); null: about every <see cref="DefaultLogSeconds"/> seconds.</summary>
    public static int? LogInterval { get; set; }

    /// <summary>No progress bar, no step or epoch lines (--quiet).</summary>
    public static bool Quiet { get; set; }

    public const double DefaultLogSeconds = 30;

    public static T Run<T>(Func<IProgress, T> work)
    {
        var sink = new ConsoleProgress();
        if (Quiet || !AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected) return work(sink);
        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                sink._context = ctx;
                return work(sink);
            });
    }

    public void EpochStarted(int epoch, int epochs, int batches)
    {
        (_epoch, _epochs, _batches) = (epoch, epochs, batches);
        _sinceLine.Restart();
        if (_context is null) return;
        _task?.StopTask();
        _task = _context.AddTask($"epoch {epoch}/{epochs}", maxValue: batches);
    }

    public void BatchDone(int batch, double loss, double accuracy, double imagesPerSecond)
    {
        if (_task is null)
        {
            if (Quiet || batch == _batches) return; // the epoch's own line follows
            if (LogInterval is int every ? batch % every == 0 : _sinceLine.Elapsed.TotalSeconds >= DefaultLogSeconds)
            {
                Console.WriteLine($"epoch {_epoch}/{_epochs}  step {batch}/{_batches}  loss {loss:F4}" +
                                  (double.IsNaN(accuracy) ? "" : $"  acc {accuracy:P1}") + $"  {imagesPerSecond:F0} img/s");
                _sinceLine.Restart();
            }
            return;
        }
        _task.Value = batch;
        _task.Description = $"epoch {_epoch}/{_epochs}  loss {loss:F4}  acc {accuracy:P1}  {imagesPerSecond:F0} img/s";
    }

    public void EpochDone(IReadOnlyDictionary<string, object> metrics)
    {
        string line = string.Join("  ", metrics.Select(kv => $"{kv.Key} {Format(kv.Value)}"));
        if (Quiet) return;
        if (_context is null) Console.WriteLine(line);
        else AnsiConsole.MarkupLine(Markup.Escape(line));
    }

    public void Message(string text)
    {
        if (_context is null) Console.WriteLine(text);
        else AnsiConsole.MarkupLine(Markup.Escape(text));
    }

    static string Format(object value) => value switch
    {
        double d => d.ToString(Math.Abs(d) >= 100 ? "F0" : "F4", System.Globalization.CultureInfo.InvariantCulture),
        float f => f.ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
