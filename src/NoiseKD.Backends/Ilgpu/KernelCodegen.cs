using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace NoiseKD.Backends.Ilgpu;

/// <summary>One kernel compiled offline: PTX for one architecture, or OpenCL C.</summary>
public sealed record GeneratedKernel(string Name, string Target, string Code)
{
    /// <summary>A file name for <see cref="Code"/>: family.method.target.ptx or .cl.</summary>
    public string FileName => $"{Name}.{Target}.{(Target == "opencl" ? "cl" : "ptx")}";
}

/// <summary>
/// Every kernel of kernels/ compiled without a device: PTX through ILGPU's PTXBackend (sm_80, sm_90) and
/// OpenCL C 2.0 through its CLBackend, the code a GPU would load. The CI gates (tests/NoiseKD.Tests/Ilgpu)
/// check the text; `noisekd kernels --out DIR` writes it for ptxas on a GPU machine.
/// </summary>
public static partial class KernelCodegen
{
    /// <summary>The PTX targets of the CI gate.</summary>
    public static readonly IReadOnlyList<CudaArchitecture> Architectures = [CudaArchitecture.SM_80, CudaArchitecture.SM_90];

    /// <summary>Static shared memory a CUDA kernel may declare and still load (above it PTX compiles but the launch fails).</summary>
    public const int SharedMemoryLimit = 48 * 1024;

    /// <summary>
    /// The kernels: every public static void method of NoiseKD.Kernels whose last parameter is one of its
    /// parameter structs (…Params); helpers return values or take no parameter struct.
    /// </summary>
    public static IReadOnlyList<MethodInfo> Kernels { get; } = typeof(global::NoiseKD.Kernels.Loops).Assembly.GetTypes()
        .Where(t => t.IsPublic && t.IsAbstract && t.IsSealed)
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
        .Where(m => m.ReturnType == typeof(void) && m.GetParameters() is [.., var last] && last.ParameterType.IsValueType
                    && last.ParameterType.Name.EndsWith("Params", StringComparison.Ordinal))
        .OrderBy(Name, StringComparer.Ordinal)
        .ToList();

    /// <summary>Family.Method, e.g. Gemm.Tiled.</summary>
    public static string Name(MethodInfo kernel) => $"{kernel.DeclaringType!.Name}.{kernel.Name}";

    static Context CreateContext() => Context.Create(builder => builder.EnableAlgorithms().Math(MathMode.Default));

    /// <summary>PTX of every kernel for every architecture of <see cref="Architectures"/>.</summary>
    public static IEnumerable<GeneratedKernel> Ptx()
    {
        using var context = CreateContext();
        foreach (var architecture in Architectures)
        {
            using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, CudaInstructionSet.ISA_80, null);
            string target = $"sm_{architecture.Major}{architecture.Minor}";
            foreach (var kernel in Kernels)
            {
                var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), KernelSpecialization.Empty);
                yield return new(Name(kernel), target, compiled.PTXAssembly);
            }
        }
    }

    /// <summary>OpenCL C 2.0 of every kernel, for a device with doubles (the reductions sum in double).</summary>
    public static IEnumerable<GeneratedKernel> OpenCl()
    {
        using var context = CreateContext();
        using var backend = new CLBackend(context, new CLCapabilityContext(float16: false, float64: true, genericAddressSpace: true, int64_Atomics: false, subGroups: false), CLDeviceVendor.Other, CLCVersion.CL20);
        foreach (var kernel in Kernels)
        {
            var compiled = (CLCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), KernelSpecialization.Empty);
            yield return new(Name(kernel), "opencl", compiled.Source);
        }
    }

    /// <summary>The names of a PTX module's entry points.</summary>
    public static IReadOnlyList<string> PtxEntries(string ptx) => PtxEntry().Matches(ptx).Select(m => m.Groups[1].Value).ToList();

    /// <summary>Bytes of static shared memory a PTX module declares.</summary>
    public static long PtxStaticShared(string ptx) => PtxShared().Matches(ptx).Sum(m => long.Parse(m.Groups[1].Value));

    /// <summary>Whether a PTX module uses thread-local memory (a local array or a register spill).</summary>
    public static bool PtxUsesLocalMemory(string ptx) => PtxLocal().IsMatch(ptx);

    [GeneratedRegex(@"\.entry\s+(\w+)\s*\(")]
    private static partial Regex PtxEntry();

    [GeneratedRegex(@"\.shared\s+(?:\.align\s+\d+\s+)?\.b8\s+\w+\[(\d+)\]")]
    private static partial Regex PtxShared();

    [GeneratedRegex(@"\.local\b|\b(?:ld|st)\.local\b")]
    private static partial Regex PtxLocal();
}
