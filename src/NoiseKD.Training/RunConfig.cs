using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoiseKD.Backends.Cpu;
using NoiseKD.Data;
using NoiseKD.IO;

namespace NoiseKD.Training;

/// <summary>One option that decides a run's result, named as the command line names it ("--epochs"), its value as text.</summary>
public readonly record struct Setting(string Option, string Value)
{
    public static Setting Of(string option, object? value) => new(option, value switch
    {
        null => "none",
        bool b => b ? "true" : "false",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "none",
    });
}

/// <summary>Where a run took place: what config.json records but does not compare.</summary>
public sealed record RunContext(string Dataset, string? DataRoot, ulong Seed, string Device);

/// <summary>
/// FOLDER/config.json, written when a run starts: the options that decide its result (compared when the folder is
/// resumed or reused), the command line, the program version and commit, seed, device, threads, the dataset files
/// and the start time. Device and threads are recorded, not compared: the kernels reduce in a fixed order, so
/// another thread count gives the same numbers, and another device the same run up to float rounding (the
/// checkpoint fingerprint never held either, so a run may be resumed on another machine). Where a run is
/// written, whether it resumes, and the data root (the files it found are recorded) are not compared either.
/// </summary>
public static class RunConfig
{
    public const string FileName = "config.json";

    /// <summary>The command line that started this process (the CLI sets it; library callers leave it empty).</summary>
    public static string CommandLine { get; set; } = "";

    /// <summary>The program version; the build appends "+COMMIT" (the source revision) to it.</summary>
    public static string Version { get; } =
        typeof(RunConfig).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The commit the program was built from, or "unknown".</summary>
    public static string Commit => Version.Split('+') is [_, var commit, ..] && commit.Length > 0 ? commit : "unknown";

    /// <summary>The settings as one string (a checkpoint stores it; two runs may continue each other when theirs are equal).</summary>
    public static string Fingerprint(IEnumerable<Setting> settings) => ToJson(settings).ToJsonString();

    /// <summary>A fingerprint's settings back, or null for one written by an older build (a plain ';'-joined string).</summary>
    public static IReadOnlyList<Setting>? ParseFingerprint(string? fingerprint)
    {
        if (fingerprint is null || !fingerprint.StartsWith('{')) return null;
        try { return JsonNode.Parse(fingerprint) is JsonObject o ? FromJson(o) : null; }
        catch (JsonException) { return null; }
    }

    /// <summary>"--epochs: 1 in the folder, 2 asked; --lr: ..." for every option that differs, or null when none does.</summary>
    public static string? Diff(IReadOnlyList<Setting> inFolder, IReadOnlyList<Setting> asked)
    {
        var old = inFolder.ToDictionary(s => s.Option, s => s.Value);
        var now = asked.ToDictionary(s => s.Option, s => s.Value);
        var lines = asked.Select(s => s.Option).Concat(inFolder.Select(s => s.Option)).Distinct()
            .Where(o => old.GetValueOrDefault(o) != now.GetValueOrDefault(o))
            .Select(o => $"{o}: {old.GetValueOrDefault(o) ?? "not set"} in the folder, {now.GetValueOrDefault(o) ?? "not set"} asked").ToList();
        return lines.Count == 0 ? null : string.Join("; ", lines);
    }

    /// <summary>The compared options of <paramref name="dir"/>'s config.json, or null when the folder has none.</summary>
    public static IReadOnlyList<Setting>? Read(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is JsonObject root && root["options"] is JsonObject options) return FromJson(options);
        }
        catch (JsonException) { }
        throw new InvalidDataException($"'{path}' is not a run configuration (a JSON object with \"options\"); move it away to reuse the folder");
    }

    /// <summary>
    /// Refuses to reuse or continue <paramref name="dir"/> when its config.json names other options: the message names
    /// each difference. A folder from before config.json existed passes (there is nothing to compare).
    /// </summary>
    public static void CheckSame(string dir, IReadOnlyList<Setting> asked, string what, IReadOnlySet<string>? mayDiffer = null)
    {
        if (Read(dir) is { } inFolder) Refuse(dir, what, Diff(Without(inFolder, mayDiffer), Without(asked, mayDiffer)));
    }

    /// <summary>
    /// The same refusal for two fingerprints (a study run's stored key and the one asked for); one written by an
    /// older build has nothing to compare and passes.
    /// </summary>
    public static void CheckSameFingerprint(string dir, string? stored, string asked, string what)
    {
        if (ParseFingerprint(stored) is { } inFolder && ParseFingerprint(asked) is { } now) Refuse(dir, what, Diff(inFolder, now));
    }

    static void Refuse(string dir, string what, string? diff)
    {
        if (diff is not null)
            throw new ArgumentException($"{what} in '{dir}' was made with other options ({diff}); give the same options, another --out, or delete that folder");
    }

    /// <summary>
    /// Called by a run holding its folder's lock. One that continues the folder (<paramref name="continuing"/>) must
    /// match its config.json except in <paramref name="mayDiffer"/> (<see cref="CheckSame"/>); the file then records
    /// the options now in force, its start time kept and the resumption's added. Any other run writes a new file.
    /// </summary>
    public static void Begin(string dir, string verb, IReadOnlyList<Setting> settings, RunContext context, bool continuing, IReadOnlySet<string>? mayDiffer = null)
    {
        string? started = null;
        if (continuing && Read(dir) is not null)
        {
            CheckSame(dir, settings, "the run", mayDiffer);
            started = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, FileName)))?["started"]?.ToString();
        }
        Write(dir, verb, settings, context, started);
    }

    static IReadOnlyList<Setting> Without(IReadOnlyList<Setting> settings, IReadOnlySet<string>? options) =>
        options is null ? settings : settings.Where(s => !options.Contains(s.Option)).ToList();

    static string Now => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    static void Write(string dir, string verb, IReadOnlyList<Setting> settings, RunContext context, string? started)
    {
        var root = new JsonObject
        {
            ["verb"] = verb,
            ["command_line"] = CommandLine,
            ["version"] = Version,
            ["commit"] = Commit,
            ["started"] = started ?? Now,
            ["resumed"] = started is null ? null : Now,
            ["seed"] = context.Seed,
            ["device"] = context.Device,
            ["threads"] = CpuParallel.Threads,
            ["options"] = ToJson(settings),
            ["not_compared"] = new JsonObject { ["--out"] = Path.GetFullPath(dir), ["--data-root"] = context.DataRoot, ["--device"] = context.Device,
                                                ["--threads"] = CpuParallel.Threads },
            ["dataset"] = context.Dataset,
            ["dataset_files"] = new JsonArray([.. DatasetFiles(context.Dataset, context.DataRoot)]),
        };
        AtomicFile.WriteAllText(Path.Combine(dir, FileName), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The files in the dataset's folder (the one its loader reads), with their sizes.</summary>
    static IEnumerable<JsonNode> DatasetFiles(string dataset, string? dataRoot)
    {
        if (DatasetCatalog.Locate(dataset, dataRoot) is not { } folder) yield break;
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal).Take(32))
            yield return new JsonObject { ["path"] = file.FullName, ["bytes"] = file.Length };
    }

    static JsonObject ToJson(IEnumerable<Setting> settings)
    {
        var o = new JsonObject();
        foreach (var s in settings) o[s.Option] = s.Value;
        return o;
    }

    static List<Setting> FromJson(JsonObject o) => o.Select(kv => new Setting(kv.Key, kv.Value?.ToString() ?? "none")).ToList();
}
