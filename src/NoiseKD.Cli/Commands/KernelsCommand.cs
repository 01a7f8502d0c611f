using CommandLine;
using NoiseKD.Backends.Ilgpu;
using NoiseKD.IO;

namespace NoiseKD.Cli.Commands;

/// <summary>
/// Writes every device kernel as ILGPU compiles it, with no device needed: PTX for sm_80 and sm_90 and
/// OpenCL C 2.0, one file per kernel and target, so they can be read or passed to ptxas on a GPU machine.
/// </summary>
[Verb("kernels", HelpText = "Write every ILGPU kernel's PTX (sm_80, sm_90) and OpenCL C to a folder (no GPU needed).")]
public sealed class KernelsCommand : ICommand
{
    [Option("out", Required = true, HelpText = "Folder to write the .ptx and .cl files to (created if missing).")]
    public string Out { get; set; } = "";

    public int Run()
    {
        Directory.CreateDirectory(Out);
        int files = 0;
        foreach (var kernel in KernelCodegen.Ptx().Concat(KernelCodegen.OpenCl()))
        {
            AtomicFile.WriteAllText(Path.Combine(Out, kernel.FileName), kernel.Code);
            files++;
        }
        Console.WriteLine($"kernels: {KernelCodegen.Kernels.Count} kernels, {files} files in {Out}");
        return 0;
    }
}
