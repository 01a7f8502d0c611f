namespace NoiseKD.Studies;

/// <summary>
/// A study in three steps, so one code path serves a local study and a Slurm job array: <see cref="Plan"/> lists
/// every run (no training), tasks execute runs (<see cref="StudyTasks"/>), <see cref="Report"/> reads the finished
/// runs and writes REPORT.md. Plan, then Report, in one process: the report reads the runs the plan named.
/// </summary>
public interface IStudy
{
    StudyRuns Runs { get; }

    /// <summary>Fills <see cref="Runs"/>' plan: every run the report reads, in the order a local study runs them, a trained teacher first.</summary>
    void Plan();

    /// <summary>Writes REPORT.md, results.csv and the figures from the finished runs; returns REPORT.md's path.</summary>
    string Report();
}
