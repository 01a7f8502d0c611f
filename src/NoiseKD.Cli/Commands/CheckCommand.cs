using System.Globalization;
using CommandLine;
using NoiseKD.Backends.Conformance;
using NoiseKD.Backends.Cpu;

namespace NoiseKD.Cli.Commands;

/// <summary>
/// Conformance of a device against the CPU backend (ggml's test-backend-ops as a program): every
/// primitive on both with the same inputs, one line per case, exit code 1 if any case fails.
/// </summary>
[Verb("check", HelpText = "Run every backend primitive on --device and on the CPU and compare (normalized error ||a-b||/||b||).")]
public sealed class CheckCommand : CommonOptions, ICommand
{
    public const int Failed = 1;

    [Option("ops", Separator = ',', HelpText = "Only these IBackend primitives (e.g. Gemm,Conv2dForward); default: all.")]
    public IEnumerable<string> Ops { get; set; } = [];

    [Option("seed", Default = 0, HelpText = "Seed of the random inputs.")]
    public int Seed { get; set; }

    public int Run()
    {
        var cases = BackendConformance.Select(Ops.ToList());
        using var device = OpenDevice();
        Console.WriteLine($"check: {device.Name} against cpu, {cases.Count} cases, seed {Seed}");
        int failed = 0;
        foreach (var result in BackendConformance.Run(cases, device, CpuBackend.Instance, Seed))
        {
            if (!result.Passed) failed++;
            string error = double.IsNaN(result.Error) ? "NaN" : result.Error.ToString("0.0e+00", CultureInfo.InvariantCulture);
            Console.WriteLine($"{(result.Passed ? "OK  " : "FAIL")}  {result.Case.Name,-100} err {error,8}  tol {result.Case.Tolerance.ToString("0e+00", CultureInfo.InvariantCulture)}" +
                              (result.Failure is null ? "" : $"  {result.Failure}"));
        }
        Console.WriteLine(failed == 0 ? $"all {cases.Count} cases passed" : $"{failed} of {cases.Count} cases failed");
        return failed == 0 ? 0 : Failed;
    }
}
