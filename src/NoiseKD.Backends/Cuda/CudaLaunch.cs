using NoiseKD.Backends.Kernels;

namespace NoiseKD.Backends.Cuda;

/// <summary>
/// An OpenCL NDRange as cuLaunchKernel's arguments: block = the local size, grid = global / local in each
/// dimension (dimension 2 is already counted in groups), so GROUP_ID, LOCAL_ID, LOCAL_SIZE and NUM_GROUPS of
/// portability.h read the same numbers on both. Checked against CUDA's limits, so a launch the driver
/// would refuse fails here with the sizes in the message.
/// </summary>
internal readonly record struct CudaLaunch(uint GridX, uint GridY, uint GridZ, uint BlockX, uint BlockY, uint BlockZ)
{
    /// <summary>CUDA's limits: threads per block, and grid extents in x and in y/z (compute capability 3.0+).</summary>
    public const long MaxThreadsPerBlock = 1024, MaxGridX = int.MaxValue, MaxGridYz = 65535;

    public static CudaLaunch For(Grid grid)
    {
        if (grid.Local0 <= 0 || grid.Local1 <= 0 || grid.Global0 % grid.Local0 != 0 || grid.Global1 % grid.Local1 != 0)
            throw new ArgumentException($"{grid}: the global size must be a whole number of work-groups in each dimension");
        if ((long)grid.Local0 * grid.Local1 > MaxThreadsPerBlock)
            throw new ArgumentException($"{grid}: {grid.Local0 * grid.Local1} threads per block exceed CUDA's {MaxThreadsPerBlock}");
        long x = grid.Global0 / grid.Local0, y = grid.Global1 / grid.Local1, z = grid.Groups2;
        if (x > MaxGridX || y > MaxGridYz || z > MaxGridYz)
            throw new ArgumentException($"{grid}: a grid of {x} x {y} x {z} blocks exceeds CUDA's {MaxGridX} x {MaxGridYz} x {MaxGridYz}");
        return new((uint)x, (uint)y, (uint)z, (uint)grid.Local0, (uint)grid.Local1, 1);
    }
}
