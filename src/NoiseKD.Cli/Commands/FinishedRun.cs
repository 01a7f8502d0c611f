using NoiseKD.Training;

namespace NoiseKD.Cli.Commands;

/// <summary>`--resume` on a run that has already finished with the options asked: there is nothing to continue, so nothing is touched.</summary>
public static class FinishedRun
{
    /// <summary>Says so and returns true when <paramref name="outDir"/> holds that finished run (its summary.json and <paramref name="result"/>).</summary>
    public static bool Report(bool resume, string outDir, IReadOnlyList<Setting> settings, string result)
    {
        string summary = Path.Combine(outDir, "summary.json"), resultPath = Path.Combine(outDir, result);
        if (!resume || !File.Exists(summary) || !File.Exists(resultPath) || RunConfig.Read(outDir) is not { } inFolder || RunConfig.Diff(inFolder, settings) is not null)
            return false;
        Console.WriteLine($"the run in {outDir} has finished all its epochs; nothing to do (results in {summary}; {resultPath} left as it is)");
        return true;
    }
}
