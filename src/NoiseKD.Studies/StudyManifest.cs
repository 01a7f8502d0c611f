using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using NoiseKD.IO;

namespace NoiseKD.Studies;

/// <summary>One run as the manifest lists it: its cache folder (runs/NAME), key, and options (for people; the key is compared).</summary>
public sealed record ManifestRun(string Name, string Key, string Description, JsonElement Options);

/// <summary>One task of the job array: the runs it executes, in order.</summary>
public sealed record ManifestTask(int Index, IReadOnlyList<ManifestRun> Runs);

/// <summary>
/// DIR/manifest.json of `noisekd study NAME --plan DIR`: every run of the study, cut into the array's tasks, and what
/// rebuilds the study in a task (the working directory and the study's command-line options). A task re-plans the study
/// from these options and refuses unless it finds the same runs with the same keys, so a plan never runs under a
/// program or inputs that would plan it differently.
/// </summary>
public sealed record StudyManifest(int Format, string Program, string WorkingDirectory, string Study, JsonElement Options, int Pack,
                                   bool TeacherTask, IReadOnlyList<ManifestTask> Tasks)
{
    public const string FileName = "manifest.json";
    public const int CurrentFormat = 1;

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, IgnoreReadOnlyProperties = true, // the options as given, not what they imply
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The program that writes and reads plans: its informational version (with the commit it was built from).</summary>
    public static string ProgramVersion =>
        "noisekd " + (typeof(StudyManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");

    public static StudyManifest For(string study, JsonElement options, int pack, IReadOnlyList<IReadOnlyList<StudyRun>> tasks) =>
        new(CurrentFormat, ProgramVersion, Environment.CurrentDirectory, study, options, pack, StudyTasks.HasTeacherTask(tasks),
            [.. tasks.Select((task, i) => new ManifestTask(i, [.. task.Select(r => new ManifestRun(r.Name, r.Key, r.Description,
                                                                                                    JsonSerializer.SerializeToElement(r.Options, r.Options.GetType(), Json)))]))]);

    public void Write(string planDir) => AtomicFile.WriteAllText(Path.Combine(planDir, FileName), JsonSerializer.Serialize(this, Json));

    /// <summary>DIR/manifest.json, or one sentence on what is wrong with DIR.</summary>
    public static StudyManifest Read(string planDir)
    {
        string path = Path.Combine(planDir, FileName);
        if (!Directory.Exists(planDir)) throw new ArgumentException($"plan folder '{planDir}' does not exist; write one with `noisekd study NAME --plan {planDir}`");
        if (!File.Exists(path)) throw new ArgumentException($"'{planDir}' is not a study plan folder (it holds no {FileName}); write one with `noisekd study NAME --plan {planDir}`");
        StudyManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<StudyManifest>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new ArgumentException($"'{path}' is not a study manifest ({e.Message.Split('.')[0]})"); }
        if (manifest is null || manifest.Tasks is null || manifest.Study is null || manifest.WorkingDirectory is null || manifest.Program is null)
            throw new ArgumentException($"'{path}' is not a study manifest (fields are missing)");
        if (manifest.Format != CurrentFormat || manifest.Program != ProgramVersion)
            throw new ArgumentException($"'{path}' was written by {manifest.Program} (manifest format {manifest.Format}), not by this {ProgramVersion}; plan the study again with this program");
        return manifest;
    }

    /// <summary>Refuses, in one sentence, a re-planned study whose tasks are not this manifest's (other inputs, other cache keys).</summary>
    public void CheckSame(IReadOnlyList<IReadOnlyList<StudyRun>> tasks, string planDir)
    {
        static IEnumerable<string> Lines(IEnumerable<(int Task, string Name, string Key)> runs) => runs.Select(r => $"{r.Task}\t{r.Name}\t{r.Key}");
        var planned = Lines(Tasks.SelectMany(t => t.Runs.Select(r => (t.Index, r.Name, r.Key)))).ToList();
        var now = Lines(tasks.SelectMany((t, i) => t.Select(r => (i, r.Name, r.Key)))).ToList();
        if (planned.SequenceEqual(now)) return;
        string first = planned.Zip(now).Select(p => p.First != p.Second ? p.First.Split('\t')[1] : null).FirstOrDefault(n => n is not null)
                       ?? (planned.Count > now.Count ? planned[now.Count] : now[planned.Count]).Split('\t')[1];
        throw new ArgumentException($"the study planned in '{planDir}' plans differently now (its teacher, data or options changed; first different run: '{first}'); plan it again");
    }

    /// <summary>Task <paramref name="index"/>, or one sentence naming the plan's range.</summary>
    public void CheckIndex(int index)
    {
        if (index < 0 || index >= Tasks.Count) throw new ArgumentException($"--index {index} is outside the plan's tasks 0-{Tasks.Count - 1}");
    }
}
