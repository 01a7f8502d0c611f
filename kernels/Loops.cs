using ILGPU;

namespace NoiseKD.Kernels;

/// <summary>
/// The index arithmetic every kernel shares. Kernels are launched explicitly grouped on a 1-d grid
/// (<see cref="KernelConfig"/> of groups x threads), so the same method runs on a GPU with 256 threads per
/// group and on ILGPU's CPU accelerator with 16; element loops are grid-strided, so any grid covers any count.
/// </summary>
public static class Loops
{
    /// <summary>Threads per group of the group reductions, at most (static shared memory is sized for it).</summary>
    public const int MaxGroup = 256;

    /// <summary>This thread's first element of a grid-stride loop.</summary>
    public static int First => Grid.GlobalIndex.X;

    /// <summary>Threads in the whole grid: the stride of a grid-stride loop.</summary>
    public static int Stride => Grid.DimX * Group.DimX;

    /// <summary>
    /// Sum of <paramref name="value"/> over the group (power-of-two size) in a fixed tree, so the rounding
    /// depends on the group size only, never on timing; every thread gets the total.
    /// </summary>
    public static double GroupSum(ArrayView<double> scratch, double value)
    {
        int id = Group.IdxX;
        scratch[id] = value;
        Group.Barrier();
        for (int step = Group.DimX / 2; step > 0; step >>= 1)
        {
            if (id < step) scratch[id] += scratch[id + step];
            Group.Barrier();
        }
        double total = scratch[0];
        Group.Barrier();
        return total;
    }

    /// <summary>Maximum of <paramref name="value"/> over the group; a NaN wins, as in PyTorch's max.</summary>
    public static float GroupMax(ArrayView<float> scratch, float value)
    {
        int id = Group.IdxX;
        scratch[id] = value;
        Group.Barrier();
        for (int step = Group.DimX / 2; step > 0; step >>= 1)
        {
            if (id < step)
            {
                float other = scratch[id + step];
                if (other > scratch[id] || float.IsNaN(other)) scratch[id] = other;
            }
            Group.Barrier();
        }
        float total = scratch[0];
        Group.Barrier();
        return total;
    }
}
