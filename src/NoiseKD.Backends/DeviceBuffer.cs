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

    /// <summary>
    /// Incremented each time the pool hands this buffer out again, so a tensor that outlived its
    /// scope can tell that its memory now belongs to someone else (use-after-release is an error,
    /// never silent corruption).
    /// </summary>
    public int Generation { get; private set; }

    public void Dispose()
    {
        if (IsReleased) return;
        IsReleased = true;
        Backend.Release(this);
        GC.SuppressFinalize(this);
    }

    /// <summary>Called by the pool when it hands this buffer out again.</summary>
    protected internal void MarkLive()
    {
        IsReleased = false;
        Generation++;
    }
}
