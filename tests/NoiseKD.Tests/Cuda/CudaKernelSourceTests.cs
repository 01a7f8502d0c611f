using System.Text.RegularExpressions;
using NoiseKD.Backends.Kernels;
using Xunit;

namespace NoiseKD.Tests.Cuda;

/// <summary>
/// The kernel program as NVRTC sees it, checked without a compiler: the two halves of kernels/portability.h
/// define the same macros, the CUDA half maps them to CUDA's spellings, and once its definitions replace
/// the macros no OpenCL-only keyword or built-in is left anywhere in kernels/*.cl.
/// </summary>
public partial class CudaKernelSourceTests
{
    const string CudaBranch = "#if defined(__CUDACC__) || defined(__CUDACC_RTC__)", OpenClBranch = "#else /* OpenCL C 1.2 */";

    /// <summary>OpenCL C keywords and built-ins that CUDA C++ does not have (kernels must reach them only through macros).</summary>
    static readonly HashSet<string> OpenClOnly =
    [
        "__kernel", "kernel", "__global", "global", "__local", "local", "__constant", "constant", "__private", "private",
        "barrier", "mem_fence", "CLK_LOCAL_MEM_FENCE", "CLK_GLOBAL_MEM_FENCE",
        "get_global_id", "get_local_id", "get_group_id", "get_local_size", "get_num_groups", "get_global_size", "get_work_dim",
        "mad", "ulong", "uint", "ushort", "uchar", "half", "select", "clamp", "mix", "native_exp", "convert_float", "as_float",
        "atomic_add", "atomic_inc", "atomic_cmpxchg", "atom_add", "vload4", "vstore4", "float4",
    ];

    static string Program => KernelSource.Program;

    /// <summary>The text between two markers of the header (inlined once into the program).</summary>
    static string Between(string start, string end)
    {
        int from = Program.IndexOf(start, StringComparison.Ordinal), to = Program.IndexOf(end, from + 1, StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, $"portability.h has no '{start}' ... '{end}' section");
        return Program[(from + start.Length)..to];
    }

    /// <summary>#define NAME[(args)] body and typedef ... NAME; of one half of the header, by name.</summary>
    static Dictionary<string, string> Definitions(string branch)
    {
        var table = new Dictionary<string, string>();
        foreach (Match m in Define().Matches(branch)) table[m.Groups[1].Value] = m.Groups[3].Value.Trim();
        foreach (Match m in Typedef().Matches(branch)) table[m.Groups[2].Value] = m.Groups[1].Value.Trim();
        return table;
    }

    static Dictionary<string, string> Cuda => Definitions(Between(CudaBranch, OpenClBranch));
    static Dictionary<string, string> OpenCl => Definitions(Between(OpenClBranch, "#endif\n\n/* Grid-stride"));

    [Fact]
    public void BothHalvesDefineTheSameNames()
    {
        // DIM3_ is the CUDA half's helper and INFINITY its fallback for NVRTC's missing math.h.
        var cuda = Cuda.Keys.Where(k => !k.EndsWith('_') && k != "INFINITY").Order().ToList();
        Assert.Equal(OpenCl.Keys.Order().ToList(), cuda);
    }

    [Theory]
    [InlineData("KERNEL", "extern \"C\" __global__")]
    [InlineData("DEVICE", "static __device__ __forceinline__")]
    [InlineData("GLOBAL", "")]
    [InlineData("LOCAL", "__shared__")]
    [InlineData("LOCAL_PTR", "")]
    [InlineData("BARRIER", "__syncthreads()")]
    [InlineData("GROUP_ID", "((i64)DIM3_(blockIdx, d))")]
    [InlineData("LOCAL_ID", "((int)DIM3_(threadIdx, d))")]
    [InlineData("LOCAL_SIZE", "((int)DIM3_(blockDim, d))")]
    [InlineData("NUM_GROUPS", "((i64)DIM3_(gridDim, d))")]
    [InlineData("GLOBAL_ID", "(GROUP_ID(d) * LOCAL_SIZE(d) + LOCAL_ID(d))")]
    [InlineData("acc_t", "double")]
    [InlineData("i64", "long long")]
    [InlineData("u64", "unsigned long long")]
    [InlineData("MAD", "fmaf(a, b, c)")]
    public void CudaHalfMapsToCudaSpellings(string macro, string expansion) => Assert.Equal(expansion, Cuda[macro]);

    [Fact]
    public void NoOpenClOnlyNameIsLeftAfterTheCudaDefinitionsReplaceTheMacros()
    {
        var cuda = Cuda;
        // Everything NVRTC compiles: the program without the header's OpenCL half and without comments.
        string withoutOpenCl = Program.Replace(Between(OpenClBranch, "#endif\n\n/* Grid-stride"), "\n");
        string code = Comment().Replace(withoutOpenCl, " ");
        string expanded = code;
        for (int pass = 0; pass < 4; pass++) // macros expand to macros (GLOBAL_ID -> GROUP_ID -> DIM3_)
            expanded = Identifier().Replace(expanded, m => cuda.TryGetValue(m.Value, out var body) ? body : m.Value);
        var left = Identifier().Matches(expanded).Select(m => m.Value).Where(OpenClOnly.Contains).Distinct().ToList();
        Assert.True(left.Count == 0, $"OpenCL-only names in the CUDA program: {string.Join(", ", left)}");
        Assert.DoesNotContain("#pragma OPENCL", code);
    }

    [Fact]
    public void EveryKernelIsAnExternCGlobalFunctionFoundByName()
    {
        var names = KernelSource.KernelNames;
        Assert.Equal(names.Count, names.Distinct().Count());
        foreach (var kernel in new[] { "gemm", "gemm_strips", "gemm_sum_splits", "copy_blocks", "channel_partials", "im2col", "col2im",
                                       "softmax_forward", "batchnorm_backward_data", "max_pool_backward", "fill_normal", "adam_update" })
            Assert.Contains(kernel, names);
        Assert.Equal(names.Count, Regex.Matches(Program, @"^KERNEL void \w+\(", RegexOptions.Multiline).Count);
    }

    [GeneratedRegex(@"^[ \t]*#define[ \t]+(\w+)(\([^)]*\))?[ \t]*(.*)$", RegexOptions.Multiline)]
    private static partial Regex Define();

    [GeneratedRegex(@"^[ \t]*typedef[ \t]+([\w ]+?)[ \t]+(\w+);", RegexOptions.Multiline)]
    private static partial Regex Typedef();

    [GeneratedRegex(@"/\*.*?\*/|//[^\n]*", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"\b[A-Za-z_]\w*\b")]
    private static partial Regex Identifier();
}
