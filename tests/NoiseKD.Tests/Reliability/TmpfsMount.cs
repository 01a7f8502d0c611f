using System.Diagnostics;
using Xunit;

namespace NoiseKD.Tests.Reliability;

/// <summary>
/// A small tmpfs mounted on a fresh folder, for a real full disk or a real read-only file system; needs root
/// and a kernel that lets this process mount (a container without CAP_SYS_ADMIN does not).
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    public string Path { get; }

    public TmpfsMount(long bytes)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "noisekd-tmpfs-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
        if (Run("mount", "-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", Path) is { } error)
            throw new InvalidOperationException($"mount failed: {error}");
    }

    public void RemountReadOnly()
    {
        if (Run("mount", "-o", "remount,ro", Path) is { } error) throw new InvalidOperationException($"remount failed: {error}");
    }

    public void Dispose()
    {
        Run("umount", Path);
        try { Directory.Delete(Path); } catch (IOException) { }
    }

    /// <summary>Why no tmpfs can be mounted here (null where it can), found once by trying.</summary>
    public static readonly string? Unavailable = Probe();

    static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux";
        if (!Environment.IsPrivilegedProcess) return "not root";
        try { using var m = new TmpfsMount(64 << 10); return null; }
        catch (Exception e) { return e.Message; }
    }

    static string? Run(string file, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? null : $"{file} exited {p.ExitCode}: {err.Trim()}";
        }
        catch (Exception e) { return $"{file}: {e.Message}"; }
    }
}

/// <summary>A fact skipped, with the reason, where this process cannot mount a tmpfs.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (TmpfsMount.Unavailable is { } reason) Skip = $"cannot mount a tmpfs: {reason}";
    }
}

/// <summary>A fact skipped where permission bits cannot stop this process (root, or Windows).</summary>
public sealed class PermissionBitsFactAttribute : FactAttribute
{
    public PermissionBitsFactAttribute()
    {
        if (OperatingSystem.IsWindows()) Skip = "no Unix permission bits";
        else if (Environment.IsPrivilegedProcess) Skip = "root writes through permission bits (the injected faults cover the path)";
    }
}
