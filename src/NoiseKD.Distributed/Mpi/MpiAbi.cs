namespace NoiseKD.Distributed.Mpi;

/// <summary>
/// The two MPI ABIs Debian 12 ships. They agree on the C API but not on what a handle is: Open MPI's
/// MPI_Comm, MPI_Datatype, MPI_Op and MPI_Request are pointers (the predefined ones are addresses of
/// exported globals such as ompi_mpi_comm_world), MPICH's are 32-bit integers with fixed values
/// (mpi.h of MPICH 4.0). A program built against one cannot call the other, so the binding carries both.
/// </summary>
public enum MpiAbi
{
    /// <summary>Open MPI 4.x, libmpi.so.40 (Debian openmpi-bin, libopenmpi3).</summary>
    OpenMpi,
    /// <summary>MPICH 4.x, libmpich.so.12 (Debian mpich, libmpich12), and its derivatives with the same ABI.</summary>
    Mpich,
}

/// <summary>The element types our collectives move.</summary>
public enum MpiType { Float, Double }

/// <summary>The reductions our collectives apply.</summary>
public enum MpiOp { Sum, Max }
