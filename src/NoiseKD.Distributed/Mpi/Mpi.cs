using System.Runtime.InteropServices;

namespace NoiseKD.Distributed.Mpi;

/// <summary>
/// Our own small MPI binding: MPI_COMM_WORLD only, float and double, sum and max — what data-parallel
/// training needs. The library is loaded with <see cref="NativeLibrary"/> and called through function
/// pointers, for either ABI (<see cref="MpiAbi"/>); no .NET MPI package is used (the only one served is
/// Windows-only and unmaintained). Collectives come blocking and non-blocking; a non-blocking call keeps
/// its buffer pinned until <see cref="MpiRequest.Test"/> or <see cref="MpiRequest.Wait"/> sees it complete.
/// </summary>
public abstract class Mpi : IDisposable
{
    public abstract MpiAbi Abi { get; }
    public int Rank { get; protected set; }
    public int Size { get; protected set; }
    /// <summary>The library file it loaded.</summary>
    public string Library { get; protected init; } = "";

    /// <summary>MPI_Bcast over the whole array, from <paramref name="root"/>.</summary>
    public abstract void Bcast<T>(T[] buffer, int root) where T : unmanaged;
    /// <summary>MPI_Allreduce in place.</summary>
    public abstract void Allreduce<T>(T[] buffer, MpiOp op) where T : unmanaged;
    /// <summary>MPI_Iallreduce in place over buffer[0..count); the array stays pinned until the request completes.</summary>
    public abstract MpiRequest Iallreduce<T>(T[] buffer, int count, MpiOp op) where T : unmanaged;
    /// <summary>MPI_Ibcast over the whole array.</summary>
    public abstract MpiRequest Ibcast<T>(T[] buffer, int root) where T : unmanaged;
    /// <summary>MPI_Ibarrier.</summary>
    public abstract MpiRequest Ibarrier();
    public abstract void Barrier();
    /// <summary>MPI_Abort on MPI_COMM_WORLD: every rank of the job ends with <paramref name="exitCode"/>.</summary>
    public abstract void Abort(int exitCode);
    /// <summary>MPI_Finalize, once (also by Dispose); named so as not to clash with the CLR finalizer.</summary>
    public abstract void Shutdown();

    public void Dispose()
    {
        Shutdown();
        GC.SuppressFinalize(this);
    }

    /// <summary>The element type of T as MPI sees it.</summary>
    protected static MpiType TypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? MpiType.Float
        : typeof(T) == typeof(double) ? MpiType.Double
        : throw new NotSupportedException($"the MPI binding moves float and double, not {typeof(T).Name}");

    /// <summary>Loads the library of <paramref name="abi"/> and calls MPI_Init.</summary>
    public static Mpi Init(MpiAbi abi, string? library = null) => abi switch
    {
        MpiAbi.OpenMpi => new MpiLibrary<nint>(abi, library ?? "libmpi.so.40", OpenMpiHandles),
        MpiAbi.Mpich => new MpiLibrary<int>(abi, library ?? "libmpich.so.12", MpichHandles),
        _ => throw new ArgumentOutOfRangeException(nameof(abi)),
    };

    /// <summary>Open MPI: the predefined handles are the addresses of exported globals (mpi.h's OMPI_PREDEFINED_GLOBAL).</summary>
    static MpiHandles<nint> OpenMpiHandles(nint library)
    {
        nint Global(string name) => NativeLibrary.GetExport(library, name);
        return new MpiHandles<nint>(Global("ompi_mpi_comm_world"), Global("ompi_mpi_float"), Global("ompi_mpi_double"),
                                    Global("ompi_mpi_op_sum"), Global("ompi_mpi_op_max"), Global("ompi_request_null"),
                                    InPlace: 1, StatusIgnore: 0);
    }

    /// <summary>MPICH: fixed 32-bit handles from its mpi.h (4.0).</summary>
    static MpiHandles<int> MpichHandles(nint library) =>
        new(CommWorld: 0x44000000, Float: 0x4c00040a, Double: 0x4c00080b, Sum: 0x58000003, Max: 0x58000001, RequestNull: 0x2c000000,
            InPlace: -1, StatusIgnore: 1);
}

/// <summary>The predefined handles and sentinels of one ABI.</summary>
internal sealed record MpiHandles<THandle>(THandle CommWorld, THandle Float, THandle Double, THandle Sum, THandle Max, THandle RequestNull,
                                             nint InPlace, nint StatusIgnore) where THandle : unmanaged;
