using System.Runtime.InteropServices;

namespace NoiseKD.Distributed.Mpi;

/// <summary>
/// A non-blocking operation in flight: its MPI_Request lives in native memory (MPI may write it at any
/// MPI call) and the buffer it reads and writes stays pinned until MPI reports completion.
/// </summary>
public abstract class MpiRequest
{
    GCHandle _pin;

    protected MpiRequest(GCHandle pin) => _pin = pin;

    public bool IsCompleted { get; private set; }

    /// <summary>MPI_Test: drives progress and returns whether the operation completed.</summary>
    public bool Test()
    {
        if (IsCompleted) return true;
        if (!TestOnce()) return false;
        Complete();
        return true;
    }

    /// <summary>MPI_Wait.</summary>
    public void Wait()
    {
        if (IsCompleted) return;
        WaitOnce();
        Complete();
    }

    protected abstract bool TestOnce();
    protected abstract void WaitOnce();
    protected abstract void FreeSlot();

    void Complete()
    {
        IsCompleted = true;
        if (_pin.IsAllocated) _pin.Free();
        FreeSlot();
    }
}
