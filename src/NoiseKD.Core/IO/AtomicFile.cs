using System.Text;

namespace NoiseKD.IO;

/// <summary>
/// Every file the project writes goes through here: the bytes go to a temporary file in the same folder,
/// are flushed to disk (fsync), the temporary file is renamed over the target, and the folder is flushed so
/// the rename itself is on disk. A crash or a full disk therefore leaves either the previous file or the
/// whole new one, never half a file; on any failure the temporary file is deleted and a
/// <see cref="StorageException"/> names the path and the cause. Temporary files are named
/// <c>.NAME.PID.tmp</c>; one left by a process killed mid-write is swept by <see cref="SweepStaleTemporaries"/>.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes whatever <paramref name="write"/> puts into the stream as the new content of <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string directory = CreateDirectory(Path.GetDirectoryName(full)!);
        if (Directory.Exists(full)) throw new StorageException($"cannot write '{path}': it is a folder, not a file");
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            Posix.SyncFolder(directory);
        }
        catch (Exception e)
        {
            TryDelete(temp);
            if (e is IOException or UnauthorizedAccessException)
            {
                string cause = Directory.Exists(directory) ? StorageException.Cause(e) : "the folder was removed while writing";
                throw new StorageException($"cannot write '{path}': {cause}; {KeptMessage(full)}", e);
            }
            throw;
        }
    }

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    public static void WriteAllLines(string path, IEnumerable<string> lines) =>
        WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));

    /// <summary>
    /// Appends one line by rewriting the file (metrics logs are small): a full disk never leaves half a line,
    /// and a crash leaves the file with or without the line.
    /// </summary>
    public static void AppendLine(string path, string line)
    {
        byte[] old;
        try { old = File.Exists(path) ? File.ReadAllBytes(path) : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw StorageException.For("read", path, e); }
        byte[] added = Encoding.UTF8.GetBytes(line + "\n");
        Write(path, s => { s.Write(old); s.Write(added); });
    }

    /// <summary>Creates <paramref name="directory"/> and its parents if needed; returns its full path.</summary>
    public static string CreateDirectory(string directory)
    {
        string full = Path.GetFullPath(directory);
        if (File.Exists(full)) throw new StorageException($"cannot use '{directory}' as a folder: it is a file");
        try { Directory.CreateDirectory(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StorageException.For("create the folder", directory, e);
        }
        return full;
    }

    /// <summary>Deletes <paramref name="path"/> if it exists.</summary>
    public static void Delete(string path)
    {
        try { File.Delete(path); }
        catch (DirectoryNotFoundException) { }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw StorageException.For("delete", path, e); }
    }

    /// <summary>
    /// Deletes the temporary files in <paramref name="directory"/> that a process killed mid-write left
    /// behind (<c>.NAME.PID.tmp</c> whose PID is not running); returns how many. Called by
    /// <see cref="RunLock.Acquire"/>, so only the folder's owner sweeps it.
    /// </summary>
    public static int SweepStaleTemporaries(string directory)
    {
        int swept = 0;
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(directory, ".*.tmp").ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
        foreach (string file in candidates)
        {
            string name = Path.GetFileNameWithoutExtension(file); // .NAME.PID
            int dot = name.LastIndexOf('.');
            if (dot <= 0 || !int.TryParse(name.AsSpan(dot + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)) continue;
            if (pid == Environment.ProcessId || IsRunning(pid)) continue;
            try { File.Delete(file); swept++; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return swept;
    }

    static bool IsRunning(int pid)
    {
        if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
        try { using var process = System.Diagnostics.Process.GetProcessById(pid); return !process.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    static string KeptMessage(string full) => File.Exists(full) ? "the previous file is unchanged" : "nothing was written";

    static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
