using CommandLine;
using NoiseKD.Backends.Cpu;
using NoiseKD.Backends.Ilgpu;

namespace NoiseKD.Cli.Commands;

[Verb("devices", HelpText = "List the devices --device can name: the CPU, and every device ILGPU sees (CUDA, OpenCL, its CPU accelerator), with the reason where one cannot run the kernels.")]
public sealed class DevicesCommand : ICommand
{
    public int Run()
    {
        Console.WriteLine($"{"cpu",-14} managed CPU backend, {CpuParallel.Threads} threads");
        Console.WriteLine("through ILGPU 1.5.3 (kernels/):");
        foreach (var d in IlgpuDevices.All())
            Console.WriteLine(d.Unusable is null ? $"{d.Selector,-14} {d.Description}" : $"{d.Selector,-14} {d.Description}; cannot be used: {d.Unusable}.");
        return 0;
    }
}
