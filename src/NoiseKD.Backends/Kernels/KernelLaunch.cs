namespace NoiseKD.Backends.Kernels;

/// <summary>
/// One kernel argument as clSetKernelArg and cuLaunchKernel take it (a pointer to the value): a value of
/// 4 or 8 bytes (int, float, long, ulong, bool as int) or a device address (cl_mem, CUdeviceptr), held in
/// the low bytes of a 64-bit word at offset 0 (little-endian hosts). Implicit conversions let a call list
/// its arguments as the kernel declares them.
/// </summary>
internal readonly struct KernelArg
{
    readonly ulong _bits;

    KernelArg(ulong bits, int size)
    {
        _bits = bits;
        Size = size;
    }

    public int Size { get; }

    public static implicit operator KernelArg(int v) => new(unchecked((uint)v), sizeof(int));
    public static implicit operator KernelArg(bool v) => new(v ? 1u : 0u, sizeof(int));
    public static implicit operator KernelArg(float v) => new(BitConverter.SingleToUInt32Bits(v), sizeof(float));
    public static implicit operator KernelArg(long v) => new(unchecked((ulong)v), sizeof(long));
    public static implicit operator KernelArg(ulong v) => new(v, sizeof(ulong));

    /// <summary>A device address (cl_mem handle or CUdeviceptr); 0 is a NULL pointer in the kernel.</summary>
    public static KernelArg Address(ulong address) => new(address, sizeof(ulong));
}

/// <summary>
/// An NDRange: global and local sizes in up to two dimensions. Grid-stride kernels (FOR_EACH) accept
/// any size, so <see cref="Elements"/> caps the item count; work-group kernels get exact multiples.
/// </summary>
internal readonly record struct Grid(long Global0, long Global1, int Local0, int Local1, long Groups2 = 1)
{
    /// <summary>Work-items per group of the 1-d grid-stride kernels and the reductions (REDUCE_GROUP in portability.h).</summary>
    public const int Group = 256;
    /// <summary>Beyond this many items a grid-stride loop gives each item several elements instead.</summary>
    const long MaxItems = 1L << 20;

    public bool IsEmpty => Global0 == 0 || Global1 == 0 || Groups2 == 0;

    /// <summary>Work-groups in all, the parallelism a driver can spread over its compute units.</summary>
    public long GroupCount => Global0 / Local0 * (Global1 / Local1) * Groups2;

    public static Grid Elements(long count) => new(RoundUp(Math.Min(count, MaxItems), Group), 1, Group, 1);

    /// <summary>Dimension 0 walks `inner` elements, dimension 1 `outer` rows (both grid-strided).</summary>
    public static Grid Plane(long inner, long outer)
    {
        long items0 = RoundUp(Math.Min(inner, MaxItems), Group);
        long items1 = outer == 0 ? 0 : Math.Min(outer, Math.Max(1, MaxItems / Math.Max(1, items0)));
        return new(items0, items1, Group, 1);
    }

    /// <summary>groups0 x groups1 work-groups of <see cref="Group"/> items in dimension 0 (the reductions).</summary>
    public static Grid Groups(long groups0, long groups1) => new(groups0 * Group, groups1, Group, 1);

    /// <summary>One item per block: items0 (rounded up to whole groups of <paramref name="local"/>) x items1.</summary>
    public static Grid Blocks(long items0, long items1, int local) => new(RoundUp(items0, local), items1, local, 1);

    /// <summary>tiles0 x tiles1 work-groups of side x side items (the GEMM).</summary>
    public static Grid Tiles(long tiles0, long tiles1, int side) => new(tiles0 * side, tiles1 * side, side, side);

    static long RoundUp(long n, long multiple) => (n + multiple - 1) / multiple * multiple;
}
