namespace NoiseKD.Backends.Cpu;

/// <summary>
/// One register-tile family of <see cref="Sgemm"/>, named by its vector width: the rows of a packed A
/// sliver (MR), the columns of a full tile (a multiple of <see cref="Sgemm.NR"/>), the cache blocks, and
/// the sweep of one packed MC x KC block of A against one packed KC x NC slab of B (C += the product).
/// Static members, so the blocked loops compiled for one family see its sizes as constants.
/// </summary>
internal unsafe interface ISgemmKernel
{
    static abstract int MR { get; }
    static abstract int Columns { get; }
    static abstract int KC { get; }
    static abstract int MC { get; }
    static abstract void MacroKernel(int mc, int nc, int kc, float alpha, float* packedA, float* packedB, float beta, float* c, int ldc);
}
