using System.Runtime.InteropServices;

namespace NoiseKD.Backends.Cpu;

/// <summary>Native, 64-byte aligned float32 memory (outside the GC heap, so the GC never copies it).</summary>
public sealed unsafe class CpuBuffer : DeviceBuffer, IPooledBuffer
{
    internal CpuBuffer(CpuBackend backend, long length) : base(backend, length)
    {
        long bytes = Math.Max(1, length) * sizeof(float);
        Pointer = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        GC.AddMemoryPressure(bytes);
    }

    public float* Pointer { get; private set; }

    public Span<float> Span => new(Pointer, checked((int)Length));

    void IPooledBuffer.Free() => Free();

    void Free()
    {
        if (Pointer == null) return;
        NativeMemory.AlignedFree(Pointer);
        GC.RemoveMemoryPressure(Math.Max(1, Length) * sizeof(float));
        Pointer = null;
    }

    void IPooledBuffer.Revive()
    {
        MarkLive();
        GC.ReRegisterForFinalize(this); // Dispose suppressed it; a revived buffer may again be abandoned
    }

    ~CpuBuffer()
    {
        // Reached only for buffers that nobody returned to the pool (pooled ones are referenced by it).
        ((CpuBackend)Backend).ForgetLive(Length);
        Free();
    }
}
