namespace NoiseKD.Backends.Kernels;

/// <summary>What every kernel device (OpenCL, CUDA) shows the command line: its --device spelling and its name.</summary>
public interface IKernelDevice
{
    string Selector { get; }
    string Name { get; }
}
