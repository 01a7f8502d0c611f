using System.Diagnostics;
using NoiseKD.Export;
using NoiseKD.Models;
using Xunit;

namespace NoiseKD.Tests.Export;

/// <summary>
/// The ONNX project's own checker (python3-onnx, Debian's 1.12: opsets up to 17) accepts every
/// architecture's file, including its shape inference (full_check), where it is installed.
/// </summary>
public class OnnxCheckerTests
{
    [OnnxCheckerTheory]
    [MemberData(nameof(OnnxExportTests.Architectures), MemberType = typeof(OnnxExportTests))]
    public void OnnxCheckerAcceptsTheFile(string arch, float width, int channels, int size)
    {
        using var dir = new TempDir();
        var spec = new ModelSpec(arch, width, channels, 10, size);
        var model = spec.Create();
        var file = new ModelFile(spec, Enumerable.Repeat(0.5f, channels).ToArray(), Enumerable.Repeat(0.25f, channels).ToArray(),
                                 new Dictionary<string, string> { ["arch"] = arch });
        string path = dir.File("m.onnx");
        OnnxExporter.Write(path, model, file, new OnnxExportOptions(IncludeNormalization: true));
        var (code, output) = OnnxChecker.Run(path);
        Assert.True(code == 0, $"onnx.checker rejects {arch}: {output}");
    }
}

/// <summary>Runs `python3 -c "import onnx; onnx.checker.check_model(...)"` on a file.</summary>
public static class OnnxChecker
{
    /// <summary>Debian's interpreter, where apt installs python3-onnx (a python3 earlier on PATH may not see it).</summary>
    static readonly string Python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    const string Script = "import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('ok')";

    /// <summary>Why the checker cannot run here (no python3 or no onnx module), or null; decided once.</summary>
    public static readonly string? Unavailable = Probe();

    public static (int Code, string Output) Run(params string[] args)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(args.Length == 0 ? "import onnx" : Script);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd(), stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr);
    }

    static string? Probe()
    {
        try
        {
            var (code, output) = Run();
            return code == 0 ? null : $"python3 cannot import onnx (apt-get install python3-onnx): {output.Trim().Split('\n')[^1]}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"no python3: {e.Message}";
        }
    }
}

/// <summary>A theory skipped, with the reason, where the ONNX checker is not installed (decided at discovery).</summary>
public sealed class OnnxCheckerTheoryAttribute : TheoryAttribute
{
    public OnnxCheckerTheoryAttribute()
    {
        if (OnnxChecker.Unavailable is { } reason) Skip = reason;
    }
}
