using BenchmarkDotNet.Running;
using NoiseKD.Benchmarks;

// `dotnet run -c Release -- gflops [sgemm|conv]` prints a quick GFLOP/s table (median of repeats);
// `gemm M N K [M N K ...]` times C = A*B at given shapes (the conv layers' products: M = Cout, K = Cin*9);
// `fma-peak [threads]` measures the FMA peak at 256 and 512 bits (one JSON line);
// `ort-infer MODEL.onnx BATCH CxHxW STEPS THREADS` times ONNX Runtime on an exported graph (one JSON line);
// `allreduce [REPEATS]` under mpirun times the MPI all-reduce through our binding (one JSON line per size);
// any other arguments go to BenchmarkDotNet (e.g. `-- --filter *Sgemm*`).
if (args.Length > 0 && args[0] == "gflops")
    return QuickGflops.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "gemm")
    return QuickGflops.Rectangular(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "sgemm-json")
    return QuickGflops.SgemmJson(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "fma-peak")
    return FmaPeak.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "ort-infer")
    return OrtInference.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "allreduce")
    return AllReduceBandwidth.Run(args.Skip(1).ToArray());
BenchmarkSwitcher.FromAssembly(typeof(QuickGflops).Assembly).Run(args);
return 0;
