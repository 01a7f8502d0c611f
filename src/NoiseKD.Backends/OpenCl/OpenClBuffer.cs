namespace NoiseKD.Backends.OpenCl;

/// <summary>A cl_mem of float32 elements owned by one <see cref="OpenClBackend"/>.</summary>
public sealed class OpenClBuffer : DeviceBuffer, IPooledBuffer
{
    internal OpenClBuffer(OpenClBackend backend, long length, nint memory) : base(backend, length) => Memory = memory;

    /// <summary>The cl_mem handle (0 once freed).</summary>
    internal nint Memory { get; private set; }

    void IPooledBuffer.Revive()
    {
        MarkLive();
        GC.ReRegisterForFinalize(this); // Dispose suppressed it; a revived buffer may again be abandoned
    }

    void IPooledBuffer.Free() => Free();

    void Free()
    {
        if (Memory == 0) return;
        ClNative.clReleaseMemObject(Memory); // the object keeps its context alive until released
        Memory = 0;
    }

    ~OpenClBuffer()
    {
        // Reached only for buffers that nobody returned to the pool (pooled ones are referenced by it).
        ((OpenClBackend)Backend).ForgetLive(Length);
        Free();
    }
}
