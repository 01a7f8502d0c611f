namespace NoiseKD.IO;

/// <summary>Another process holds a run folder's lock (exit code 4).</summary>
public sealed class RunLockedException(string directory, int? pid) : Exception(
    $"'{directory}' is in use by another noisekd process ({(pid is int p ? $"pid {p}" : "pid unknown")}); wait for it to end or choose another folder")
{
    public int? HolderPid { get; } = pid;
}
