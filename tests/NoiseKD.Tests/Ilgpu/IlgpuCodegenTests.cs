using System.Diagnostics;
using NoiseKD.Backends.Ilgpu;
using Xunit;

namespace NoiseKD.Tests.Ilgpu;

/// <summary>
/// The code a GPU would load, checked without one: every kernel compiled to PTX for sm_80 and sm_90 by ILGPU's
/// PTXBackend (a kernel that fails to compile fails here), with text checks, and every kernel's OpenCL C 2.0
/// from its CLBackend parsed by clang.
/// </summary>
public class IlgpuCodegenTests
{
    static readonly Lazy<IReadOnlyList<GeneratedKernel>> Ptx = new(() => KernelCodegen.Ptx().ToList());
    static readonly Lazy<IReadOnlyList<GeneratedKernel>> OpenCl = new(() => KernelCodegen.OpenCl().ToList());

    [Fact]
    public void EveryFamilyHasKernels()
    {
        var families = KernelCodegen.Kernels.Select(k => k.DeclaringType!.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "Gemm", "Conv", "BatchNorm", "Softmax", "Elementwise", "Reduce", "Pool", "Optim", "RandomFill" }, families);
        Assert.True(KernelCodegen.Kernels.Count >= 35, $"only {KernelCodegen.Kernels.Count} kernels found");
    }

    [Fact]
    public void EveryKernelCompilesToPtxWithOneEntry()
    {
        Assert.Equal(KernelCodegen.Kernels.Count * KernelCodegen.Architectures.Count, Ptx.Value.Count);
        foreach (var kernel in Ptx.Value)
        {
            var entries = KernelCodegen.PtxEntries(kernel.Code);
            Assert.True(entries.Count == 1, $"{kernel.FileName}: {entries.Count} entry points");
            Assert.Equal($"Kernel_{kernel.Name.Split('.')[1]}", entries[0]);
            // ILGPU 1.5.3 writes `.target sm_80` for sm_90 too (PTX for sm_80 is loaded by sm_90 GPUs); never a newer target.
            var target = System.Text.RegularExpressions.Regex.Match(kernel.Code, @"\.target sm_(\d+)");
            Assert.True(target.Success && int.Parse(target.Groups[1].Value) <= int.Parse(kernel.Target[3..]), $"{kernel.FileName}: {target.Value}");
        }
    }

    [Fact]
    public void StaticSharedMemoryFitsEveryGpu()
    {
        foreach (var kernel in Ptx.Value)
        {
            long shared = KernelCodegen.PtxStaticShared(kernel.Code);
            Assert.True(shared <= KernelCodegen.SharedMemoryLimit, $"{kernel.FileName}: {shared} bytes of static shared memory");
        }
        // The tiled SGEMM stages two 16 x 65 float tiles: the check above must have seen them.
        Assert.Equal(2 * 16 * 65 * 4, KernelCodegen.PtxStaticShared(Ptx.Value.First(k => k.Name == "Gemm.Tiled").Code));
    }

    [Fact]
    public void NoKernelUsesLocalMemory()
    {
        // No kernel declares a thread-local array; the SGEMM's 4x4 block is a value struct meant to live in registers.
        var spilling = Ptx.Value.Where(k => KernelCodegen.PtxUsesLocalMemory(k.Code)).Select(k => k.FileName).ToList();
        Assert.Empty(spilling);
        Assert.True(KernelCodegen.PtxUsesLocalMemory(".local .align 4 .b8 __local_depot0[64];"), "the detector must see a local array");
    }

    [ClangFact]
    public void EveryKernelsOpenClCParsesAsOpenClC20()
    {
        Assert.Equal(KernelCodegen.Kernels.Count, OpenCl.Value.Count);
        string folder = Path.Combine(Path.GetTempPath(), $"noisekd-cl-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            foreach (var kernel in OpenCl.Value)
            {
                string path = Path.Combine(folder, kernel.FileName);
                File.WriteAllText(path, kernel.Code);
                var (code, output) = Clang.Check(path);
                Assert.True(code == 0, $"{kernel.FileName}: clang exit {code}\n{output}");
            }
            // The check must be able to fail: a kernel that uses an undeclared name does not parse.
            string broken = Path.Combine(folder, "broken.cl");
            File.WriteAllText(broken, "kernel void k(global float* y) { y[0] = undeclared; }");
            Assert.NotEqual(0, Clang.Check(broken).ExitCode);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>Debian's clang (any of the names it installs), which parses OpenCL C with its default header.</summary>
static class Clang
{
    public static readonly string? Path = new[] { "clang", "clang-19", "clang-18", "clang-17", "clang-16", "clang-15", "clang-14" }
        .Select(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => System.IO.Path.Combine(d, name)).FirstOrDefault(File.Exists))
        .FirstOrDefault(p => p is not null);

    public static (int ExitCode, string Output) Check(string file)
    {
        var info = new ProcessStartInfo(Path!, ["-x", "cl", "-cl-std=CL2.0", "-Xclang", "-finclude-default-header", "-fsyntax-only", file])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(info)!;
        string output = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}

/// <summary>A fact that is skipped, with the reason, where clang is not installed (.ci/run installs it).</summary>
public sealed class ClangFactAttribute : FactAttribute
{
    public ClangFactAttribute()
    {
        if (Clang.Path is null) Skip = "clang is not installed (apt-get install clang), so OpenCL C cannot be parsed";
    }
}
