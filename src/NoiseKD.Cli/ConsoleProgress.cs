using Spectre.Console;
using NoiseKD.Training;

namespace NoiseKD.Cli;

/// <summary>
/// Live progress for long runs: a bar with ETA, loss, accuracy and images/s on a terminal (Spectre.Console),
/// and one plain line per epoch when the output is redirected (logs, CI).
/// </summary>
public sealed class ConsoleProgress : IProgress
{
    ProgressTask? _task;
    ProgressContext? _context;
    int _epoch, _epochs;

    public static T Run<T>(Func<IProgress, T> work)
    {
        var sink = new ConsoleProgress();
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected) return work(sink);
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
        (_epoch, _epochs) = (epoch, epochs);
        if (_context is null) return;
        _task?.StopTask();
        _task = _context.AddTask($"epoch {epoch}/{epochs}", maxValue: batches);
    }

    public void BatchDone(int batch, double loss, double accuracy, double imagesPerSecond)
    {
        if (_task is null) return;
        _task.Value = batch;
        _task.Description = $"epoch {_epoch}/{_epochs}  loss {loss:F4}  acc {accuracy:P1}  {imagesPerSecond:F0} img/s";
    }

    public void EpochDone(IReadOnlyDictionary<string, object> metrics)
    {
        string line = string.Join("  ", metrics.Select(kv => $"{kv.Key} {Format(kv.Value)}"));
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
