using System.Diagnostics;
using Xunit;

namespace NoiseKD.Tests.Studies;

/// <summary>A study as a real Slurm job array: planned, submitted with sbatch (the teacher's task first), waited for, collected.</summary>
[Collection(SeededRunsCollection.Name)]
public class StudySlurmTests
{
    /// <summary>
    /// The noise-KD study at test size: a ResNet-34 x0.125 teacher trained by task 0, then 15 two-step distillations of a
    /// ResNet-18 x0.0625 in four tasks (--pack 4), some of them read under several names (Table 1's Gaussian + CS cell
    /// is also the reference student, the batch-128 row and the 28x28 noise row), so aliases cross task boundaries.
    /// </summary>
    static readonly string[] Study = ["study", "noise-kd", "--quick", "--students", "resnet18:0.0625", "--steps", "2", "--data-root", "../data", "--out", "study"];

    [SlurmFact]
    public void AJobArrayGivesTheLocalStudysReport()
    {
        using var dir = new TempDir();
        var (local, array) = StudyPlanTests.Folders(dir);
        var localRun = StudyPlanTests.Noisekd(local, Study);
        Assert.True(localRun.Code == 0, localRun.Error);
        var plan = StudyPlanTests.Noisekd(array, [.. Study, "--plan", "../plan", "--pack", "4"]);
        Assert.True(plan.Code == 0, plan.Error);

        var (code, output) = LocalSlurm.Run("bash", dir.File("plan/submit.sh"));
        Assert.True(code == 0, output);
        string[] jobs = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, jobs.Length); // the teacher's task, then the array that waits for it
        var clock = Stopwatch.StartNew();
        while (LocalSlurm.Run("squeue", "-h", "-j", string.Join(",", jobs)).Output.Trim().Length > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(4), $"the array did not finish in 4 minutes: {LocalSlurm.Run("squeue").Output}");
            Thread.Sleep(500);
        }
        string logs = string.Join("\n", Directory.GetFiles(dir.File("plan/logs")).Order().Select(f => $"{Path.GetFileName(f)}: {File.ReadAllText(f)}"));
        Assert.Equal(5, Directory.GetFiles(dir.File("plan/logs")).Length);

        var collect = StudyPlanTests.Noisekd(array, "study", "collect", "--plan", "../plan");
        Assert.True(collect.Code == 0, $"{collect.Error}\nlogs:\n{logs}");
        StudyPlanTests.SameReport(local, array);
        Assert.Contains("| Gaussian + CS |", File.ReadAllText(Path.Combine(array, "study/REPORT.md")));
        Assert.False(Directory.Exists(Path.Combine(array, "study/runs/resnet18-ref"))); // read from Table 1's run, in another task
    }
}
