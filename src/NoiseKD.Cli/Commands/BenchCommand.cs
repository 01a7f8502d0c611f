using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CommandLine;
using NoiseKD.Autograd;
using NoiseKD.Functional;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Tensors;

namespace NoiseKD.Cli.Commands;

[Verb("bench", HelpText = "Time training, inference or noise-KD steps of a model; prints one JSON line.")]
public sealed class BenchCommand : CommonOptions, ICommand
{
    [Option("arch", HelpText = "Architecture to time (required unless --gemm).")] public string? Arch { get; set; }
    /// <summary>The old name of --arch.</summary>
    [Option("model", Hidden = true)] public string? Model { get; set; }
    [Option("width", Default = 1f)] public float Width { get; set; }
    [Option("batch-size", Default = 64)] public int BatchSize { get; set; }
    [Option("input", Default = "3x32x32", HelpText = "Input shape CxHxW.")] public string Input { get; set; } = "";
    [Option("classes", Default = 10)] public int Classes { get; set; }
    [Option("steps", Default = 10, HelpText = "Timed steps (after warm-up).")] public int Steps { get; set; }
    [Option("warmup", Default = 2)] public int Warmup { get; set; }
    [Option("mode", Default = "train", HelpText = "train (SGD step), infer (eval forward) or distill (teacher CS forward + student train step).")]
    public string Mode { get; set; } = "";
    [Option("teacher-arch", HelpText = "With --mode distill: teacher architecture.")] public string? TeacherArch { get; set; }
    /// <summary>The old name of --teacher-arch.</summary>
    [Option("teacher-model", Hidden = true)] public string? TeacherModel { get; set; }
    [Option("teacher-width", HelpText = "With --mode distill: teacher width (default: --width).")] public float? TeacherWidth { get; set; }
    [Option("profile", Default = false, HelpText = "Also print time per op (leaf-module forwards, backward ops) to stderr.")] public bool Profile { get; set; }
    [Option("gemm", HelpText = "Instead of a model: time C = A*B for N x N matrices (one SGEMM primitive) and print GFLOP/s.")] public int? Gemm { get; set; }

    public int Run()
    {
        var device = OpenDevice();
        if (Gemm is int size) return GemmBench.Run(device, size, Steps, Warmup);
        string arch = Renamed(Arch, "--arch", Model, "--model") ?? throw new ArgumentException("bench needs --arch (or --gemm N)");
        string? teacherArch = Renamed(TeacherArch, "--teacher-arch", TeacherModel, "--teacher-model");
        var dims = Input.Split('x').Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : -1).ToArray();
        if (dims.Length != 3 || dims.Any(d => d < 0) || dims[1] != dims[2]) throw new ArgumentException($"--input '{Input}' must be CxHxW with H = W, e.g. 1x28x28");
        string mode = Mode.ToLowerInvariant();
        if (mode is not ("train" or "infer" or "distill")) throw new ArgumentException($"--mode '{Mode}' must be train, infer or distill");
        // Inference normalises with running statistics, so one image is a batch; training's batch statistics need two.
        int minBatch = mode == "infer" ? 1 : 2;
        if (BatchSize < minBatch || Steps <= 0 || Warmup < 0)
            throw new ArgumentException($"--batch-size must be >= {minBatch} with --mode {mode}, --steps positive, --warmup non-negative");
        if (mode == "distill" && teacherArch is null) throw new ArgumentException("--mode distill needs --teacher-arch");

        Generator.ManualSeed(1);
        var spec = new ModelSpec(arch, Width, dims[0], Classes, dims[1]);
        var model = spec.Create();
        Module? teacher = null;
        if (mode == "distill")
        {
            teacher = (spec with { Arch = teacherArch!, Width = TeacherWidth ?? Width }).Create().Eval();
            foreach (var layer in Training.BnControl.Layers(teacher)) { layer.Statistics = BnStatistics.Current; layer.UpdateRunningStatistics = false; }
        }
        var optimizer = new Sgd(model.Parameters(), 0.01f, 0.9f, 0f, 5e-4f);
        var gen = new Generator(2);
        var labels = Enumerable.Range(0, BatchSize).Select(i => i % Classes).ToArray();
        if (mode == "infer") model.Eval();

        void Step()
        {
            using var scope = new TensorScope();
            var x = gen.Normal([BatchSize, dims[0], dims[1], dims[2]]);
            if (mode == "infer")
            {
                using (Tape.NoGrad()) model.Forward(x).Item0();
                return;
            }
            Tensor loss;
            if (teacher is not null)
            {
                Tensor t;
                // As Distiller does: the teacher's activations return to the pool before the student's forward.
                using (var teacherScope = new TensorScope())
                using (Tape.NoGrad()) t = teacherScope.Keep(teacher.Forward(x));
                loss = F.SoftTargetCrossEntropy(model.Forward(x), t);
            }
            else loss = F.CrossEntropy(model.Forward(x), labels);
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
            loss.Item();
        }

        for (int i = 0; i < Warmup; i++) Step();
        bool profiling = Autograd.OpProfiler.Enabled; // NOISEKD_PROFILE=1 (whole command) stays on
        if (Profile) Autograd.OpProfiler.Reset();
        Autograd.OpProfiler.Enabled = Profile || profiling;
        var times = new double[Steps];
        var cpuTimes = new double[Steps];
        long peak = 0;
        using var process = Process.GetCurrentProcess();
        for (int i = 0; i < Steps; i++)
        {
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            Step();
            device.Synchronize();
            times[i] = clock.Elapsed.TotalMilliseconds;
            process.Refresh();
            cpuTimes[i] = (process.TotalProcessorTime - cpuStart).TotalMilliseconds;
            peak = Math.Max(peak, process.PeakWorkingSet64);
        }
        if (Profile)
            foreach (var (name, ms, calls) in Autograd.OpProfiler.Snapshot())
                Console.Error.WriteLine($"{ms / Steps,10:F2} ms/step  {calls / Steps,4} calls  {name}");
        Autograd.OpProfiler.Enabled = profiling;
        Array.Sort(times);
        Array.Sort(cpuTimes);
        double median = times[Steps / 2];
        double flops = ForwardFlops(model, dims, BatchSize) * (mode == "infer" ? 1 : 3)
                       + (teacher is null ? 0 : ForwardFlops(teacher, dims, BatchSize));
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["ms_per_step"] = Math.Round(median, 3), ["cpu_ms_per_step"] = Math.Round(cpuTimes[Steps / 2], 3), ["images_per_s"] = Math.Round(BatchSize / (median / 1000), 1),
            ["gflops"] = Math.Round(flops / (median / 1000) / 1e9, 2), ["peak_mb"] = Math.Round(peak / 1048576.0, 1),
            ["arch"] = arch, ["model"] = arch, ["width"] = Width, ["batch_size"] = BatchSize, ["input"] = Input, ["mode"] = mode, ["device"] = device.Name,
            ["threads"] = Backends.Cpu.CpuParallel.Threads, ["cpu_vector"] = Backends.Cpu.CpuVector.Path, ["steps"] = Steps, ["min_ms"] = Math.Round(times[0], 3), ["max_ms"] = Math.Round(times[^1], 3),
        }));
        return 0;
    }

    /// <summary>Forward FLOPs (2 x multiply-adds of convolutions and linear layers), counted with hooks on one forward.</summary>
    static double ForwardFlops(Module model, int[] dims, int batch)
    {
        double flops = 0;
        var hooks = model.NamedModules().Select(m => m.Module).Where(m => m is Conv2d or Linear).Select(m => m.AddForwardHook((layer, input, output) =>
        {
            if (layer is Conv2d c) flops += 2.0 * output.Numel * (c.InChannels / c.Groups) * c.KernelSize * c.KernelSize;
            else if (layer is Linear l) flops += 2.0 * output.Numel * l.InFeatures;
        })).ToList();
        bool training = model.Training;
        model.Eval();
        using (var scope = new TensorScope())
        using (Tape.NoGrad())
            model.Forward(Tensor.Zeros([batch, dims[0], dims[1], dims[2]]));
        model.Train(training);
        hooks.ForEach(h => h.Dispose());
        return flops;
    }
}

static class TensorExtensions
{
    /// <summary>Reads one element back, which forces queued device work to finish.</summary>
    public static float Item0(this Tensor t) { Span<float> one = stackalloc float[1]; t.Backend.Download(t.Buffer, 0, one); return one[0]; }
}
