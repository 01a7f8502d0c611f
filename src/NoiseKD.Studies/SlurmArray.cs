using NoiseKD.IO;

namespace NoiseKD.Studies;

/// <summary>
/// The Slurm side of a plan folder: study.sbatch runs one task of the manifest per array task, and submit.sh submits
/// it, with task 0 (the teacher, when the study trains one) first and the other tasks once it has succeeded
/// (--dependency=afterok). Each array task is `noisekd study run-task --plan DIR --index $SLURM_ARRAY_TASK_ID`.
/// </summary>
public static class SlurmArray
{
    public const string Script = "study.sbatch", Submit = "submit.sh";

    /// <summary>Writes both scripts into <paramref name="planDir"/> (absolute); <paramref name="program"/> is the command that runs noisekd.</summary>
    public static void Write(string planDir, StudyManifest manifest, int maxParallel, IReadOnlyList<string> program)
    {
        if (maxParallel <= 0) throw new ArgumentException($"--max-parallel {maxParallel} must be positive");
        int last = manifest.Tasks.Count - 1;
        string dir = Quote(planDir), study = manifest.Study;
        AtomicFile.CreateDirectory(Path.Combine(planDir, "logs")); // Slurm does not create the --output folder; a task without it fails unseen
        WriteScript(Path.Combine(planDir, Script),
        [
            "#!/bin/bash",
            $"# noisekd study {study}: array task I runs task I of manifest.json (written by `noisekd study {study} ... --plan`).",
            manifest.TeacherTask ? "# Submit with submit.sh: it starts tasks 1-N only after task 0, which trains the teacher they all read, has succeeded."
                                 : "# Submit with submit.sh (or sbatch study.sbatch: no task depends on another).",
            "# Tasks are idempotent (a finished run is skipped, an interrupted one resumes): a failed task can simply be submitted again.",
            $"#SBATCH --job-name=noisekd-{study}",
            $"#SBATCH --array=0-{last}%{maxParallel}",
            $"#SBATCH --output={planDir}/logs/task-%a.log",
            $"#SBATCH --chdir={manifest.WorkingDirectory}",
            "set -euo pipefail",
            // The program that wrote the plan, not ./noisekd: that would rebuild itself in every task at once when sources changed.
            $"exec {string.Join(" ", program.Select(Quote))} study run-task --plan {dir} --index \"$SLURM_ARRAY_TASK_ID\"",
        ]);
        List<string> submit =
        [
            "#!/bin/bash",
            $"# Submits the study's job array and prints its job ids, one a line. When they have finished: noisekd study collect --plan {dir}",
            "set -euo pipefail",
            $"cd {dir}",
            "mkdir -p logs",
        ];
        if (manifest.TeacherTask && last >= 1)
            submit.AddRange([
                $"teacher=$(sbatch --parsable --array=0 {Script})",
                "echo \"${teacher%%;*}\"",
                $"rest=$(sbatch --parsable --dependency=afterok:\"${{teacher%%;*}}\" --array=1-{last}%{maxParallel} {Script})",
                "echo \"${rest%%;*}\"",
            ]);
        else submit.AddRange([$"job=$(sbatch --parsable {Script})", "echo \"${job%%;*}\""]);
        WriteScript(Path.Combine(planDir, Submit), submit);
    }

    static void WriteScript(string path, IEnumerable<string> lines)
    {
        AtomicFile.WriteAllLines(path, lines);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
                                   | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    /// <summary>A word for bash, single-quoted.</summary>
    static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
