using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace NoiseKD.Tests.Reliability;

/// <summary>`noisekd ARGS` as a real child process (the noisekd.dll next to the tests), with its output captured.</summary>
public sealed class ChildProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new(), _error = new();

    public ChildProcess(params string[] args) : this(null, [], new Dictionary<string, string>(), args) { }

    /// <summary>`noisekd ARGS` run in <paramref name="workingDirectory"/> (this process's when null).</summary>
    public ChildProcess(string? workingDirectory, string[] args) : this(workingDirectory, [], new Dictionary<string, string>(), args) { }

    /// <summary>`LAUNCHER... dotnet noisekd.dll ARGS` (e.g. mpirun -np 2), with extra environment variables.</summary>
    public ChildProcess(string[] launcher, IReadOnlyDictionary<string, string> environment, params string[] args) : this(null, launcher, environment, args) { }

    ChildProcess(string? workingDirectory, string[] launcher, IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var info = new ProcessStartInfo(launcher.Length > 0 ? launcher[0] : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (string a in launcher.Skip(1)) info.ArgumentList.Add(a);
        if (launcher.Length > 0) info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "noisekd.dll"));
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment["NOISEKD_NO_INSTALL"] = "1";
        foreach (var (name, value) in environment) info.Environment[name] = value;
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_error) _error.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Output { get { lock (_output) return _output.ToString(); } }
    public string Error { get { lock (_error) return _error.ToString(); } }

    /// <summary>Waits for the exit (at most <paramref name="timeout"/>) and returns the exit code.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) throw new TimeoutException($"noisekd did not exit within {timeout}; output: {Output} {Error}");
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    /// <summary>Sends a POSIX signal (kill(2)), e.g. 2 = SIGINT, 9 = SIGKILL, 15 = SIGTERM.</summary>
    public void Signal(int signal)
    {
        if (kill(_process.Id, signal) != 0) throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    /// <summary>Polls <paramref name="condition"/> until it holds; false after <paramref name="timeout"/> or if the process ended first.</summary>
    public bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (condition()) return true;
            if (_process.HasExited) return condition();
            Thread.Sleep(20);
        }
        return false;
    }

    public void Dispose()
    {
        if (!_process.HasExited) { try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }
        _process.Dispose();
    }
}
