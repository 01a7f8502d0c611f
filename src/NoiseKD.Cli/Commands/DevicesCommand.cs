using CommandLine;
using NoiseKD.Backends.Cpu;
using NoiseKD.Backends.OpenCl;

namespace NoiseKD.Cli.Commands;

[Verb("devices", HelpText = "List the devices --device can name: the CPU and every OpenCL platform and device.")]
public sealed class DevicesCommand : ICommand
{
    public int Run()
    {
        Console.WriteLine($"cpu            managed CPU backend, {CpuParallel.Threads} threads");
        if (OpenClDevices.Problem is { } problem)
        {
            Console.WriteLine($"opencl         none: {problem}");
            return 0;
        }
        foreach (var platform in OpenClDevices.All.GroupBy(d => d.PlatformIndex))
        {
            Console.WriteLine($"OpenCL platform {platform.Key}: {platform.First().Platform}");
            foreach (var d in platform)
                Console.WriteLine($"{d.Selector,-14} {d.Name} ({d.Type}; {d.Version}; driver {d.DriverVersion}; {d.OpenClC}; " +
                                  $"{d.ComputeUnits} compute units; {d.GlobalMemoryBytes / 1048576} MiB global, {d.LocalMemoryBytes / 1024} KiB local memory)");
        }
        return 0;
    }
}
