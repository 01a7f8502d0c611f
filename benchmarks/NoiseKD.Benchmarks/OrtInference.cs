using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace NoiseKD.Benchmarks;

/// <summary>
/// `ort-infer MODEL.onnx BATCH CxHxW STEPS THREADS`: ONNX Runtime as the inference yardstick (the engine
/// never references it). Runs the graph on its CPU provider with all graph optimisations, THREADS
/// intra-op threads and one inter-op thread, on a standard-normal batch; two warm-up runs, then the
/// median of STEPS timed runs. One JSON line: ms_per_step, images_per_s, peak_mb.
/// </summary>
public static class OrtInference
{
    public static int Run(string[] args)
    {
        if (args.Length != 5)
        {
            Console.Error.WriteLine("usage: ort-infer MODEL.onnx BATCH CxHxW STEPS THREADS");
            return 2;
        }
        string path = args[0];
        int batch = int.Parse(args[1]), steps = int.Parse(args[3]), threads = int.Parse(args[4]);
        int[] chw = args[2].Split('x').Select(int.Parse).ToArray();
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
        };
        using var session = new InferenceSession(path, options);
        string input = session.InputMetadata.Keys.First();
        var rng = new Random(2);
        var x = new DenseTensor<float>([batch, chw[0], chw[1], chw[2]]);
        for (int i = 0; i < x.Length; i++) x.SetValue(i, Normal(rng));
        var feeds = new[] { NamedOnnxValue.CreateFromTensor(input, x) };
        void Step()
        {
            using var results = session.Run(feeds);
        }
        for (int i = 0; i < 2; i++) Step();
        var times = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            var clock = Stopwatch.StartNew();
            Step();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        double median = times[steps / 2];
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, double>
        {
            ["ms_per_step"] = Math.Round(median, 3), ["images_per_s"] = Math.Round(batch / (median / 1000), 1),
            ["peak_mb"] = Math.Round(process.PeakWorkingSet64 / 1048576.0, 1),
        }));
        return 0;
    }

    static float Normal(Random rng) => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
}
