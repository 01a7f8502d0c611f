namespace NoiseKD.Backends;

/// <summary>
/// A block of float32 memory owned by one backend. Contents are unspecified after allocation.
/// Disposing returns the memory to the backend's pool (it is not freed), so steady-state training
/// steps allocate nothing new.
/// </summary>
public abstract class DeviceBuffer : IDisposable
{
    protected DeviceBuffer(IBackend backend, long length)
    {
        Backend = backend;
        Length = length;
    }

    public IBackend Backend { get; }

    /// <summary>Number of float32 elements.</summary>
    public long Length { get; }

    public bool IsReleased { get; private set; }

    public void Dispose()
    {
        if (IsReleased) return;
        IsReleased = true;
        Backend.Release(this);
        GC.SuppressFinalize(this);
    }

    /// <summary>Called by the pool when it hands this buffer out again.</summary>
    protected internal void MarkLive() => IsReleased = false;
}
