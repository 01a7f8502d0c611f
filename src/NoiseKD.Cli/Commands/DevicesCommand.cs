using CommandLine;
using NoiseKD.Backends.Cpu;
using NoiseKD.Backends.Cuda;
using NoiseKD.Backends.Ilgpu;
using NoiseKD.Backends.OpenCl;

namespace NoiseKD.Cli.Commands;

[Verb("devices", HelpText = "List the devices --device can name: the CPU, every CUDA device and every OpenCL platform and device, and every device ILGPU sees (with the reason where it cannot use one).")]
public sealed class DevicesCommand : ICommand
{
    public int Run()
    {
        Console.WriteLine($"cpu            managed CPU backend, {CpuParallel.Threads} threads");
        ListCuda();
        ListOpenCl();
        ListIlgpu();
        return 0;
    }

    /// <summary>ILGPU's devices under their ilgpu- spellings; one it cannot use says why in one sentence.</summary>
    static void ListIlgpu()
    {
        Console.WriteLine("ILGPU 1.5.3");
        foreach (var d in IlgpuDevices.All())
        {
            string selector = d.Selector == "ilgpu-cpu" ? d.Selector : "ilgpu-" + d.Selector;
            Console.WriteLine(d.Unusable is null ? $"{selector,-14} {d.Description}" : $"{selector,-14} {d.Description}; cannot be used: {d.Unusable}.");
        }
    }

    static void ListCuda()
    {
        if (CudaDevices.DriverProblem is { } problem)
        {
            Console.WriteLine($"cuda           none: {problem}");
            return;
        }
        Console.WriteLine($"CUDA driver {CudaDevices.DriverVersion}" +
                          (CudaDevices.NvrtcVersion is { } nvrtc ? $", NVRTC {nvrtc} ({CudaLibraries.Nvrtc})" : ""));
        foreach (var d in CudaDevices.All)
            Console.WriteLine($"{d.Selector,-14} {d.Name} (compute capability {d.Major}.{d.Minor}; {d.Multiprocessors} multiprocessors; " +
                              $"{d.TotalMemoryBytes / 1048576} MiB)");
        if (CudaDevices.Problem is { } compiler) Console.WriteLine($"cuda           cannot run kernels: {compiler}");
    }

    static void ListOpenCl()
    {
        if (OpenClDevices.Problem is { } problem)
        {
            Console.WriteLine($"opencl         none: {problem}");
            return;
        }
        foreach (var platform in OpenClDevices.All.GroupBy(d => d.PlatformIndex))
        {
            Console.WriteLine($"OpenCL platform {platform.Key}: {platform.First().Platform}");
            foreach (var d in platform)
                Console.WriteLine($"{d.Selector,-14} {d.Name} ({d.Type}; {d.Version}; driver {d.DriverVersion}; {d.OpenClC}; " +
                                  $"{d.ComputeUnits} compute units; {d.GlobalMemoryBytes / 1048576} MiB global, {d.LocalMemoryBytes / 1024} KiB local memory)");
        }
    }
}
