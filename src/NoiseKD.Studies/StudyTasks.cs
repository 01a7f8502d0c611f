namespace NoiseKD.Studies;

/// <summary>
/// A study's plan cut into tasks, the unit a Slurm array task (or the local loop) executes: the teacher's training
/// alone in task 0 when the study trains one (every other run reads its model file, so the array waits for it),
/// then the other runs in plan order, <c>pack</c> to a task (packing amortizes a task's start-up over small runs).
/// </summary>
public static class StudyTasks
{
    public static IReadOnlyList<IReadOnlyList<StudyRun>> Split(IReadOnlyList<StudyRun> plan, int pack)
    {
        if (pack <= 0) throw new ArgumentException($"--pack {pack} must be positive");
        var tasks = new List<IReadOnlyList<StudyRun>>();
        var teacher = plan.Where(r => r is TeacherRun).ToList();
        if (teacher.Count > 0) tasks.Add(teacher);
        tasks.AddRange(plan.Where(r => r is not TeacherRun).Chunk(pack));
        return tasks;
    }

    /// <summary>Whether task 0 trains the teacher the other tasks depend on.</summary>
    public static bool HasTeacherTask(IReadOnlyList<IReadOnlyList<StudyRun>> tasks) => tasks.Count > 0 && tasks[0].Any(r => r is TeacherRun);

    /// <summary>
    /// Executes task <paramref name="index"/>'s runs (each idempotent). A task started before the teacher's has
    /// finished refuses with one sentence rather than failing inside a distillation.
    /// </summary>
    public static void Run(IStudy study, IReadOnlyList<IReadOnlyList<StudyRun>> tasks, int index)
    {
        if (index < 0 || index >= tasks.Count) throw new ArgumentException($"--index {index} is outside the plan's tasks 0-{tasks.Count - 1}");
        if (index > 0 && HasTeacherTask(tasks) && !study.Runs.IsFinished(tasks[0][0]))
            throw new ArgumentException($"task {index} needs the teacher that task 0 trains, and it has not finished ({study.Runs.RunDir(StudyTeacher.RunName)} holds no model file); " +
                                        "submit.sh starts the other tasks after task 0 (--dependency=afterok)");
        foreach (var run in tasks[index]) study.Runs.Execute(run);
    }

    /// <summary>The local study: plan, every task in order, report. The same steps as a Slurm array and its collect.</summary>
    public static string RunLocally(IStudy study, int pack = 1)
    {
        study.Plan();
        var tasks = Split(study.Runs.Plan, pack);
        for (int i = 0; i < tasks.Count; i++) Run(study, tasks, i);
        return study.Report();
    }

    /// <summary>
    /// The report of a study whose tasks ran elsewhere (<paramref name="check"/> sees the tasks first: the manifest's own);
    /// refuses with one sentence while runs are missing.
    /// </summary>
    public static string Collect(IStudy study, int pack, Action<IReadOnlyList<IReadOnlyList<StudyRun>>>? check = null)
    {
        study.Plan();
        var tasks = Split(study.Runs.Plan, pack);
        check?.Invoke(tasks);
        var missing = tasks.SelectMany((task, i) => task.Where(r => !study.Runs.IsFinished(r)).Select(r => (Run: r, Task: i))).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"{missing.Count} of {study.Runs.Plan.Count} runs have not finished (the first, '{missing[0].Run.Name}', is task {missing[0].Task}'s); " +
                                        $"run tasks {string.Join(",", missing.Select(m => m.Task).Distinct())} again, then collect");
        study.Runs.MarkCollected();
        return study.Report();
    }
}
