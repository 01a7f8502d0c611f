using System.Diagnostics;
using NoiseKD.Distributed;
using NoiseKD.Distributed.Mpi;

namespace NoiseKD.Benchmarks;

/// <summary>
/// `mpirun -np N dotnet NoiseKD.Benchmarks.dll allreduce [REPEATS]`: the sum all-reduce of float buffers
/// from 4 KiB to 64 MiB through our binding, blocking (MPI_Allreduce) and as the gradient reducer runs it
/// (MPI_Iallreduce polled with MPI_Test by <see cref="ProcessGroup.Await"/>). Rank 0 prints one JSON line
/// per size: the median time, the algorithm bandwidth (bytes / time) and the bus bandwidth
/// (2 (N-1) / N x bytes / time, NCCL's convention: what each link carries in a ring all-reduce).
/// </summary>
public static class AllReduceBandwidth
{
    public static int Run(string[] args)
    {
        int repeats = args.Length > 0 ? int.Parse(args[0]) : 20;
        using var group = ProcessGroup.Join() ?? throw new InvalidOperationException("run it under mpirun/mpiexec");
        for (int floats = 1024; floats <= 16 << 20; floats *= 4)
        {
            var buffer = new float[floats];
            Array.Fill(buffer, 1f);
            double blocking = Median(repeats, () => group.Mpi.Allreduce(buffer, MpiOp.Sum), group);
            double polled = Median(repeats, () => group.Await(group.StartAllReduceSum(buffer, floats), "the benchmark"), group);
            if (group.Rank != 0) continue;
            double bytes = 4.0 * floats, bus = 2.0 * (group.Size - 1) / group.Size;
            Console.WriteLine($"{{\"abi\":\"{group.Abi}\",\"ranks\":{group.Size},\"bytes\":{bytes},\"blocking_us\":{blocking * 1e6:F1},\"polled_us\":{polled * 1e6:F1}," +
                              $"\"algbw_GBps\":{bytes / blocking / 1e9:F3},\"busbw_GBps\":{bus * bytes / blocking / 1e9:F3},\"polled_busbw_GBps\":{bus * bytes / polled / 1e9:F3}}}");
        }
        return 0;
    }

    static double Median(int repeats, Action allReduce, ProcessGroup group)
    {
        allReduce(); // warm-up: connections, pinned pages
        var times = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            group.Barrier("the benchmark");
            long start = Stopwatch.GetTimestamp();
            allReduce();
            times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }
}
