using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NoiseKD.Backends.Cpu;

/// <summary>
/// The strided row loops the convolution kernels are built from. Stride 1 (the common case) runs
/// 8-wide; larger strides fall back to scalar loops, as gathers cost more than they save here.
/// </summary>
internal static unsafe class RowOps
{
    /// <summary>dst[i] = src[i*srcStride]. Inline loops, not memmove: rows here are short (4 to 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* dst, float* src, int count, int srcStride)
    {
        int i = 0;
        if (srcStride == 1 && Vector256.IsHardwareAccelerated)
            for (; i <= count - 8; i += 8) Vector256.Store(Vector256.Load(src + i), dst + i);
        else if (srcStride == 2 && Avx2.IsSupported)
            for (; i <= count - 8; i += 8) Avx.Store(dst + i, Evens(src + 2 * i));
        for (; i < count; i++) dst[i] = src[(long)i * srcStride];
    }

    /// <summary>
    /// src[0], src[2], ..., src[14] without reading past src[14]: the second load starts at src[7],
    /// so its even elements sit in the odd lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Evens(float* src)
    {
        // Per 128-bit lane: [v0[0], v0[2], v1[1], v1[3]] = src 0, 2, 8, 10 | 4, 6, 12, 14; then swap the middle qwords.
        var mixed = Avx.Shuffle(Avx.LoadVector256(src), Avx.LoadVector256(src + 7), 0xD8);
        return Avx2.Permute4x64(mixed.AsDouble(), 0xD8).AsSingle();
    }

    /// <summary>dst[i] = 0 for the few padding outputs at a row's ends.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zero(float* dst, int count)
    {
        for (int i = 0; i < count; i++) dst[i] = 0f;
    }

    /// <summary>dst[i*dstStride] += a * src[i*srcStride].</summary>
    // Inlined: the conv kernels call these once per (output row, tap), often on rows of 4 to 32.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MulAdd(float* dst, int dstStride, float a, float* src, int srcStride, int count)
    {
        int i = 0;
        if (dstStride == 1 && srcStride == 1 && Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            for (; i <= count - 8; i += 8)
                Vector256.Store(Vector256.Load(dst + i) + va * Vector256.Load(src + i), dst + i);
        }
        for (; i < count; i++) dst[(long)i * dstStride] += a * src[(long)i * srcStride];
    }

    /// <summary>Sum of a[i] * b[i*bStride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int bStride, int count)
    {
        int i = 0;
        float sum = 0f;
        if (bStride == 1 && Vector256.IsHardwareAccelerated)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= count - 8; i += 8) acc += Vector256.Load(a + i) * Vector256.Load(b + i);
            sum = Vector256.Sum(acc);
        }
        for (; i < count; i++) sum += a[i] * b[(long)i * bStride];
        return sum;
    }
}
