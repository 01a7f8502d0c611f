using System.Diagnostics;
using Xunit;

namespace NoiseKD.Tests.Studies;

/// <summary>A study as a real Slurm job array: planned, submitted with sbatch (the teacher's task first), waited for, collected.</summary>
[Collection(SeededRunsCollection.Name)]
public class StudySlurmTests
{
    [SlurmFact]
    public void AJobArrayGivesTheLocalStudysReport()
    {
        using var dir = new TempDir();
        var (local, array) = StudyPlanTests.Folders(dir);
        Assert.Equal(0, StudyPlanTests.Noisekd(local, StudyPlanTests.Study).Code);
        var plan = StudyPlanTests.Noisekd(array, [.. StudyPlanTests.Study, "--plan", "../plan", "--pack", "2"]);
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
        Assert.Equal(3, Directory.GetFiles(dir.File("plan/logs")).Length);

        var collect = StudyPlanTests.Noisekd(array, "study", "collect", "--plan", "../plan");
        Assert.True(collect.Code == 0, $"{collect.Error}\nlogs:\n{logs}");
        StudyPlanTests.SameReport(local, array);
    }
}
