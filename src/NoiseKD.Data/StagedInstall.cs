namespace NoiseKD.Data;

/// <summary>
/// Installs a folder all at once: files are written into a staging folder beside the target (same file
/// system), and <see cref="Commit"/> renames it into place, so a reader sees no dataset or the whole one.
/// Disposing without a commit (an exception, a wrong hash) deletes the staging folder.
/// </summary>
public sealed class StagedInstall : IDisposable
{
    public StagedInstall(string target)
    {
        Target = System.IO.Path.GetFullPath(target);
        string parent = System.IO.Path.GetDirectoryName(Target)!;
        Directory.CreateDirectory(parent);
        Path = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(Target)}.staging-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Target { get; }

    /// <summary>The staging folder to write into.</summary>
    public string Path { get; }

    public bool Committed { get; private set; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Renames the staging folder to the target. A target that appeared meanwhile (another process) is kept and ours dropped.</summary>
    public void Commit()
    {
        try { Directory.Move(Path, Target); }
        catch (IOException) when (Directory.Exists(Target)) { return; } // Dispose deletes ours
        Committed = true;
    }

    public void Dispose()
    {
        if (Committed) return;
        try { Directory.Delete(Path, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
