using System.Diagnostics;
using Xunit;

namespace NoiseKD.Tests.Studies;

/// <summary>
/// A one-node Slurm cluster of this test run (tools/slurm/local-cluster.sh, in a folder and on ports of its own), started
/// once at test discovery; needs root and Debian's slurmctld, slurmd, slurm-client and munge (`.ci/run` installs them).
/// </summary>
public static class LocalSlurm
{
    static readonly string State = Path.Combine(Path.GetTempPath(), "noisekd-slurm-test-" + Environment.ProcessId);
    // Its own ports too, so two test runs (or a cluster of the user's on 6817) do not meet.
    static readonly string Port = (16817 + 2 * (Environment.ProcessId % 1000)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Why no cluster runs here (null where it does), found once by starting one.</summary>
    public static readonly string? Unavailable = Start();

    /// <summary>The environment sbatch and squeue need to reach this cluster.</summary>
    public static string Conf => Path.Combine(State, "slurm.conf");

    static string Script => Path.Combine(RepositoryRoot() ?? "", "tools", "slurm", "local-cluster.sh");

    static string? Start()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux";
        if (!Environment.IsPrivilegedProcess) return "not root (munged, slurmctld and slurmd run as root here)";
        if (RepositoryRoot() is null) return "tools/slurm/local-cluster.sh not found above the test folder";
        var (code, output) = Run("bash", Script, "start");
        if (code != 0) return $"tools/slurm/local-cluster.sh start failed: {output.Trim()}";
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Run("bash", Script, "stop", "--remove");
        return null;
    }

    /// <summary>Runs a command against this cluster; returns its exit code and output (stdout and stderr).</summary>
    public static (int Code, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["NOISEKD_SLURM_DIR"] = State;
        info.Environment["NOISEKD_SLURM_PORT"] = Port;
        info.Environment["SLURM_CONF"] = Path.Combine(State, "slurm.conf");
        info.Environment["NOISEKD_NO_INSTALL"] = "1";
        try
        {
            using var p = Process.Start(info)!;
            var error = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output + error.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return (127, $"{file}: {e.Message}"); }
    }

    static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "tools", "slurm", "local-cluster.sh"))) return dir.FullName;
        return null;
    }
}

/// <summary>A fact skipped, with the reason, where no Slurm cluster can be started.</summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        if (LocalSlurm.Unavailable is { } reason) Skip = $"no Slurm cluster: {reason}";
    }
}
