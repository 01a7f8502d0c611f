using System.Globalization;
using System.Text;

namespace NoiseKD.IO;

/// <summary>
/// One run per folder: an exclusive lock on FOLDER/.noisekd.lock, which holds the owner's process id.
/// The lock is the OS's (FileShare.None, which .NET takes as flock(LOCK_EX) on Unix), so it goes away
/// with the process: kill -9 leaves no stale lock, and no one has to delete the file. Within one process
/// the lock is re-entrant (a study holds a run's folder while the distiller it starts takes it again).
/// Train, distill, quickstart and the study cache take it; a second process gets a
/// <see cref="RunLockedException"/> naming the holder's pid.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = ".noisekd.lock";

    static readonly Dictionary<string, (FileStream File, int Count, string? Created)> Held = [];

    /// <summary>
    /// What a run writes before its real output (the lock and config.json): a folder that this lock created and
    /// that holds no more than these when it is released belongs to a run that failed before its first epoch,
    /// and is removed rather than left behind empty.
    /// </summary>
    static readonly string[] StartFiles = [FileName, "config.json"];

    readonly string _path;
    bool _released;

    RunLock(string path) => _path = path;

    /// <summary>Creates <paramref name="directory"/> if needed and locks it, or throws <see cref="RunLockedException"/>.</summary>
    public static RunLock Acquire(string directory)
    {
        string? created = FirstMissing(Path.GetFullPath(directory));
        string full = AtomicFile.CreateDirectory(directory);
        string path = Path.Combine(full, FileName);
        lock (Held)
        {
            if (Held.TryGetValue(path, out var held))
            {
                Held[path] = (held.File, held.Count + 1, held.Created);
                return new RunLock(path);
            }
            FileStream file;
            try { file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException e) when (e.GetType() == typeof(IOException) && File.Exists(path) && IsSharingViolation(e))
            {
                throw new RunLockedException(directory, HolderPid(full));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw StorageException.For("lock", path, e); }
            try
            {
                byte[] pid = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
                file.SetLength(0);
                file.Write(pid);
                file.Flush(flushToDisk: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                file.Dispose();
                throw StorageException.For("write the lock file", path, e);
            }
            Held[path] = (file, 1, created);
            AtomicFile.SweepStaleTemporaries(full); // ours now: what a killed writer left goes
            return new RunLock(path);
        }
    }

    /// <summary>Releases this hold; the lock itself goes when the last hold in this process does (or the process ends).</summary>
    public void Dispose()
    {
        lock (Held)
        {
            if (_released) return;
            _released = true;
            var (file, count, created) = Held[_path];
            if (count > 1) Held[_path] = (file, count - 1, created);
            else
            {
                Held.Remove(_path);
                if (created is not null) RemoveIfUnused(Path.GetDirectoryName(_path)!, created);
                file.Dispose(); // otherwise the file stays: deleting it would race with a process opening it to lock
            }
        }
    }

    /// <summary>The outermost folder of <paramref name="full"/> that does not exist yet (what creating it creates), or null.</summary>
    static string? FirstMissing(string full)
    {
        string? missing = null;
        for (string? d = full; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing = d;
        return missing;
    }

    /// <summary>
    /// Deletes a folder this process created (<paramref name="created"/> is the outermost one) that holds only
    /// <see cref="StartFiles"/>, and the created parents left empty; a failure to do so leaves them.
    /// </summary>
    static void RemoveIfUnused(string directory, string created)
    {
        try
        {
            if (!Directory.EnumerateFileSystemEntries(directory).All(e => StartFiles.Contains(Path.GetFileName(e)))) return;
            foreach (string name in StartFiles) File.Delete(Path.Combine(directory, name));
            for (string? d = directory; d is not null && d.StartsWith(created, StringComparison.Ordinal) && !Directory.EnumerateFileSystemEntries(d).Any();
                 d = Path.GetDirectoryName(d))
                Directory.Delete(d);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The pid written in <paramref name="directory"/>'s lock file (the holder's while it runs), or null.</summary>
    public static int? HolderOf(string directory)
    {
        string text = Posix.ReadSmallFile(Path.Combine(Path.GetFullPath(directory), FileName));
        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid : null;
    }

    /// <summary>.NET reports a failed flock(LOCK_NB) as a sharing violation (EWOULDBLOCK underneath).</summary>
    static bool IsSharingViolation(IOException e) => e.HResult is 11 or unchecked((int)0x80070020) || e.Message.Contains("being used by another process", StringComparison.Ordinal);

    /// <summary>
    /// The pid the holder wrote. .NET would try to flock any FileStream it opens on the file (and fail),
    /// so the file is read with plain open/read, which flock does not block.
    /// </summary>
    static int? HolderPid(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return null;
        for (int attempt = 0; attempt < 20; attempt++) // the holder writes its pid just after taking the lock
        {
            if (HolderOf(directory) is int pid) return pid;
            Thread.Sleep(10);
        }
        return null;
    }
}
