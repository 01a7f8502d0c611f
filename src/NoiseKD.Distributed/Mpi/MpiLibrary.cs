using System.Runtime.InteropServices;

namespace NoiseKD.Distributed.Mpi;

/// <summary>
/// The MPI calls through function pointers, for handles of type <typeparamref name="THandle"/> (nint for
/// Open MPI's pointers, int for MPICH's integers). Every MPI function used has the same C signature in both
/// ABIs apart from the handle type, so one generic class serves both.
/// </summary>
internal sealed unsafe class MpiLibrary<THandle> : Mpi where THandle : unmanaged
{
    readonly MpiAbi _abi;
    readonly nint _library;
    readonly MpiHandles<THandle> _h;
    bool _finalized;

    readonly delegate* unmanaged<int*, byte***, int> _init;
    readonly delegate* unmanaged<int*, int> _initialized;
    readonly delegate* unmanaged<int> _finalize;
    readonly delegate* unmanaged<THandle, int*, int> _commRank;
    readonly delegate* unmanaged<THandle, int*, int> _commSize;
    readonly delegate* unmanaged<void*, int, THandle, int, THandle, int> _bcast;
    readonly delegate* unmanaged<void*, int, THandle, int, THandle, THandle*, int> _ibcast;
    readonly delegate* unmanaged<void*, void*, int, THandle, THandle, THandle, int> _allreduce;
    readonly delegate* unmanaged<void*, void*, int, THandle, THandle, THandle, THandle*, int> _iallreduce;
    readonly delegate* unmanaged<THandle, int> _barrier;
    readonly delegate* unmanaged<THandle, THandle*, int> _ibarrier;
    readonly delegate* unmanaged<THandle*, int*, void*, int> _test;
    readonly delegate* unmanaged<THandle*, void*, int> _wait;
    readonly delegate* unmanaged<THandle, int, int> _abort;

    public MpiLibrary(MpiAbi abi, string library, Func<nint, MpiHandles<THandle>> handles)
    {
        _abi = abi;
        Library = library;
        if (!NativeLibrary.TryLoad(library, out _library))
            throw new MpiException($"cannot load the {abi} library '{library}' (install it, or point NOISEKD_MPI_LIBRARY at it)");
        nint F(string name) => NativeLibrary.TryGetExport(_library, name, out var f) ? f
            : throw new MpiException($"'{library}' has no {name}; it is not an MPI-3 library of the {abi} ABI");
        _init = (delegate* unmanaged<int*, byte***, int>)F("MPI_Init");
        _initialized = (delegate* unmanaged<int*, int>)F("MPI_Initialized");
        _finalize = (delegate* unmanaged<int>)F("MPI_Finalize");
        _commRank = (delegate* unmanaged<THandle, int*, int>)F("MPI_Comm_rank");
        _commSize = (delegate* unmanaged<THandle, int*, int>)F("MPI_Comm_size");
        _bcast = (delegate* unmanaged<void*, int, THandle, int, THandle, int>)F("MPI_Bcast");
        _ibcast = (delegate* unmanaged<void*, int, THandle, int, THandle, THandle*, int>)F("MPI_Ibcast");
        _allreduce = (delegate* unmanaged<void*, void*, int, THandle, THandle, THandle, int>)F("MPI_Allreduce");
        _iallreduce = (delegate* unmanaged<void*, void*, int, THandle, THandle, THandle, THandle*, int>)F("MPI_Iallreduce");
        _barrier = (delegate* unmanaged<THandle, int>)F("MPI_Barrier");
        _ibarrier = (delegate* unmanaged<THandle, THandle*, int>)F("MPI_Ibarrier");
        _test = (delegate* unmanaged<THandle*, int*, void*, int>)F("MPI_Test");
        _wait = (delegate* unmanaged<THandle*, void*, int>)F("MPI_Wait");
        _abort = (delegate* unmanaged<THandle, int, int>)F("MPI_Abort");
        _h = handles(_library);

        int flag;
        Check(_initialized(&flag), "MPI_Initialized");
        if (flag == 0) Check(_init(null, null), "MPI_Init");
        int rank, size;
        Check(_commRank(_h.CommWorld, &rank), "MPI_Comm_rank");
        Check(_commSize(_h.CommWorld, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    public override MpiAbi Abi => _abi;

    THandle Type<T>() where T : unmanaged => TypeOf<T>() == MpiType.Float ? _h.Float : _h.Double;
    THandle Op(MpiOp op) => op == MpiOp.Sum ? _h.Sum : _h.Max;

    public override void Bcast<T>(T[] buffer, int root)
    {
        fixed (T* p = buffer) Check(_bcast(p, buffer.Length, Type<T>(), root, _h.CommWorld), "MPI_Bcast");
    }

    public override void Allreduce<T>(T[] buffer, MpiOp op)
    {
        fixed (T* p = buffer) Check(_allreduce((void*)_h.InPlace, p, buffer.Length, Type<T>(), Op(op), _h.CommWorld), "MPI_Allreduce");
    }

    public override MpiRequest Iallreduce<T>(T[] buffer, int count, MpiOp op)
    {
        if ((uint)count > (uint)buffer.Length) throw new ArgumentOutOfRangeException(nameof(count));
        var request = new Request(this, GCHandle.Alloc(buffer, GCHandleType.Pinned));
        var p = (void*)request.PinnedAddress;
        Check(_iallreduce((void*)_h.InPlace, p, count, Type<T>(), Op(op), _h.CommWorld, request.Slot), "MPI_Iallreduce");
        return request;
    }

    public override MpiRequest Ibcast<T>(T[] buffer, int root)
    {
        var request = new Request(this, GCHandle.Alloc(buffer, GCHandleType.Pinned));
        Check(_ibcast((void*)request.PinnedAddress, buffer.Length, Type<T>(), root, _h.CommWorld, request.Slot), "MPI_Ibcast");
        return request;
    }

    public override MpiRequest Ibarrier()
    {
        var request = new Request(this, default);
        Check(_ibarrier(_h.CommWorld, request.Slot), "MPI_Ibarrier");
        return request;
    }

    public override void Barrier() => Check(_barrier(_h.CommWorld), "MPI_Barrier");

    public override void Abort(int exitCode) => _abort(_h.CommWorld, exitCode);

    public override void Shutdown()
    {
        if (_finalized) return;
        _finalized = true;
        Check(_finalize(), "MPI_Finalize");
    }

    static void Check(int code, string call)
    {
        // MPI's default handler (MPI_ERRORS_ARE_FATAL) aborts before returning an error; this catches the rest.
        if (code != 0) throw new MpiException($"{call} failed with MPI error code {code}");
    }

    sealed class Request : MpiRequest
    {
        readonly MpiLibrary<THandle> _mpi;

        public Request(MpiLibrary<THandle> mpi, GCHandle pin) : base(pin)
        {
            _mpi = mpi;
            Slot = (THandle*)NativeMemory.AllocZeroed((nuint)sizeof(THandle));
            PinnedAddress = pin.IsAllocated ? pin.AddrOfPinnedObject() : 0;
        }

        public THandle* Slot { get; private set; }
        public nint PinnedAddress { get; }

        protected override bool TestOnce()
        {
            int flag;
            Check(_mpi._test(Slot, &flag, (void*)_mpi._h.StatusIgnore), "MPI_Test");
            return flag != 0;
        }

        protected override void WaitOnce() => Check(_mpi._wait(Slot, (void*)_mpi._h.StatusIgnore), "MPI_Wait");

        protected override void FreeSlot()
        {
            NativeMemory.Free(Slot);
            Slot = null;
        }
    }
}
