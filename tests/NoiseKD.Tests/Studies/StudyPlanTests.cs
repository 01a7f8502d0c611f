using System.Text.Json;
using NoiseKD.Tests.Reliability;
using Xunit;

namespace NoiseKD.Tests.Studies;

/// <summary>
/// `study NAME --plan DIR`, `study run-task` and `study collect` as real processes: the tasks of a plan, run in any
/// process, give the local study's report bit for bit (one code path); tasks are idempotent, the teacher's task comes
/// first, and bad plans, indices and manifests end in one sentence with exit code 2.
/// </summary>
[Collection(SeededRunsCollection.Name)]
public class StudyPlanTests
{
    static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    /// <summary>A PRE-DFKD study at toy size: a LeNet-5 teacher trained by the study (task 0), then three one-step runs.</summary>
    internal static readonly string[] Study = ["study", "pre-dfkd", "--quick", "--epochs", "1", "--steps", "1", "--data-root", "../data", "--out", "study"];

    internal static (int Code, string Output, string Error) Noisekd(string workingDirectory, params string[] args)
    {
        using var process = new ChildProcess(workingDirectory, args);
        int code = process.WaitForExit(Limit);
        return (code, process.Output, process.Error);
    }

    static void Ok(string workingDirectory, params string[] args)
    {
        var (code, output, error) = Noisekd(workingDirectory, args);
        Assert.True(code == 0, $"noisekd {string.Join(" ", args)} exited {code}: {output} {error}");
    }

    /// <summary>Exit code 2 and one sentence on stderr containing <paramref name="says"/>.</summary>
    static void Refused(string says, string workingDirectory, params string[] args)
    {
        var (code, output, error) = Noisekd(workingDirectory, args);
        Assert.True(code == 2, $"noisekd {string.Join(" ", args)} exited {code}: {output} {error}");
        Assert.Contains(says, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    /// <summary>Two folders with the same study layout (data beside them), so reports name the same relative paths.</summary>
    internal static (string Local, string Array) Folders(TempDir dir)
    {
        SyntheticFashionMnist.Write(dir.File("data"), 256, 64);
        Directory.CreateDirectory(dir.File("local"));
        Directory.CreateDirectory(dir.File("array"));
        return (dir.File("local"), dir.File("array"));
    }

    /// <summary>REPORT.md and results.csv of both studies are equal, but for the runtime line (wall clock and cache counts differ by design).</summary>
    internal static void SameReport(string local, string array)
    {
        Assert.Equal(File.ReadAllText(Path.Combine(local, "study/results.csv")), File.ReadAllText(Path.Combine(array, "study/results.csv")));
        static string[] Report(string root) => [.. File.ReadAllLines(Path.Combine(root, "study/REPORT.md")).Where(l => !l.StartsWith("Study runtime", StringComparison.Ordinal))];
        Assert.Equal(Report(local), Report(array));
    }

    [Fact]
    public void NoiseKdStudyDefaultsToThePapersRecipe()
    {
        // `study noise-kd` reproduces the paper's tables: without --recipe its students get the public code's Adam 1e-3,
        // plateau:10, batch 256; --recipe engine gives SGD 0.1, cosine, batch 128. Read from the plan's manifest.
        using var dir = new TempDir();
        var (local, _) = Folders(dir);
        foreach (var (recipe, optimizer, schedule, batch) in new[] { ((string?)null, "adam", "plateau:10", "256"), ("engine", "sgd", "cosine", "128") })
        {
            string plan = dir.File("plan-" + (recipe ?? "default"));
            Ok(local, [.. new[] { "study", "noise-kd", "--quick", "--data-root", "../data", "--out", "study", "--plan", plan }, .. recipe is null ? Array.Empty<string>() : ["--recipe", recipe]]);
            using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(plan, "manifest.json")));
            var distills = manifest.RootElement.GetProperty("tasks").EnumerateArray().SelectMany(t => t.GetProperty("runs").EnumerateArray())
                                   .Where(r => r.GetProperty("name").GetString()!.StartsWith("t1-", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(distills);
            foreach (var run in distills)
            {
                using var key = JsonDocument.Parse(run.GetProperty("key").GetString()!);
                Assert.Equal((optimizer, schedule, batch), (key.RootElement.GetProperty("--optimizer").GetString(), key.RootElement.GetProperty("--schedule").GetString(),
                                                            key.RootElement.GetProperty("--batch-size").GetString()));
            }
        }
    }

    [Fact]
    public void TasksOfAPlanGiveTheLocalStudysReport()
    {
        using var dir = new TempDir();
        var (local, array) = Folders(dir);
        Ok(local, Study);

        Ok(array, [.. Study, "--plan", "../plan", "--pack", "2", "--max-parallel", "3"]);
        var manifest = JsonDocument.Parse(File.ReadAllText(dir.File("plan/manifest.json"))).RootElement;
        var tasks = manifest.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToArray()).ToArray();
        Assert.Equal([["teacher"], ["pre-dfkd-s0", "dfad-s0"], ["replay-buffer-64-s0"]], tasks);
        Assert.True(manifest.GetProperty("teacher_task").GetBoolean());
        Assert.Equal("lenet5-half", manifest.GetProperty("tasks")[1].GetProperty("runs")[0].GetProperty("options").GetProperty("student_arch").GetString());
        string script = File.ReadAllText(dir.File("plan/study.sbatch"));
        Assert.Contains("#SBATCH --array=0-2%3", script);
        Assert.Contains("study run-task --plan", script);
        Assert.Contains("--dependency=afterok:", File.ReadAllText(dir.File("plan/submit.sh")));

        // Out of order: a student task before the teacher's refuses, and so does collect; nothing is written.
        Refused("needs the teacher that task 0 trains", array, "study", "run-task", "--plan", "../plan", "--index", "1");
        Refused("have not finished", array, "study", "collect", "--plan", "../plan");
        Refused("outside the plan's tasks 0-2", array, "study", "run-task", "--plan", "../plan", "--index", "3");
        Assert.False(Directory.Exists(Path.Combine(array, "study/runs/pre-dfkd-s0")));

        // The tasks run from anywhere: the manifest's working directory is the one the plan was written in.
        foreach (int i in new[] { 0, 2, 1 }) Ok(dir.Path, "study", "run-task", "--plan", dir.File("plan"), "--index", i.ToString());
        // Idempotent: a task run again skips its finished runs (their files are not rewritten).
        string summary = Path.Combine(array, "study/runs/dfad-s0/summary.json");
        var written = File.GetLastWriteTimeUtc(summary);
        Ok(array, "study", "run-task", "--plan", "../plan", "--index", "1");
        Assert.Equal(written, File.GetLastWriteTimeUtc(summary));

        Ok(array, "study", "collect", "--plan", "../plan");
        SameReport(local, array);
        Assert.Contains("| pre-dfkd |", File.ReadAllText(Path.Combine(array, "study/REPORT.md")));
        // Its runtime line does not claim the study took the collect step's seconds.
        Assert.Contains("collected from a plan's tasks (`study collect`): 3 distillations", File.ReadAllText(Path.Combine(array, "study/REPORT.md")));
    }

    [Fact]
    public void BadPlansEndInOneSentence()
    {
        using var dir = new TempDir();
        var (_, array) = Folders(dir);
        Refused("does not exist", array, "study", "collect", "--plan", "nowhere");
        Directory.CreateDirectory(dir.File("empty"));
        Refused("is not a study plan folder", array, "study", "run-task", "--plan", "../empty", "--index", "0");
        Refused("needs --index", array, "study", "run-task", "--plan", "../empty");
        Refused("needs --plan", array, "study", "collect");
        Refused("apply to a plan", array, [.. Study, "--pack", "2"]);

        Ok(array, [.. Study, "--plan", "../plan"]);
        Refused("outside the plan's tasks 0-3", array, "study", "run-task", "--plan", "../plan", "--index", "9");
        string path = dir.File("plan/manifest.json"), text = File.ReadAllText(path);
        File.WriteAllText(path, text.Replace("\"program\": \"noisekd ", "\"program\": \"noisekd 0.9 (not this) ", StringComparison.Ordinal));
        Refused("plan the study again with this program", array, "study", "collect", "--plan", "../plan");
        File.WriteAllText(path, text[..(text.Length / 2)]);
        Refused("is not a study manifest", array, "study", "collect", "--plan", "../plan");
        // The same manifest over other inputs (here a different --steps) plans different runs: refused, not run.
        File.WriteAllText(path, text.Replace("\"Steps\": 1", "\"Steps\": 2", StringComparison.Ordinal));
        Refused("plans differently now", array, "study", "run-task", "--plan", "../plan", "--index", "0");
    }
}
