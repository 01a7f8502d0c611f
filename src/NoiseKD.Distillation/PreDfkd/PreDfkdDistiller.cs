using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Functional;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Distillation.PreDfkd;

/// <summary>
/// Adversarial data-free distillation with replay (PRE-DFKD, Binici et al., AAAI 2022): a generator
/// synthesizes novel samples (<see cref="GeneratorObjective"/>), the student learns the teacher's logits on
/// them (L1 by default) together with replayed past samples, and a memory (<see cref="IReplayMemory"/>:
/// a VAE, a stored buffer, or nothing for the DFAD ablation) learns the novel samples after each step.
/// After every epoch the student is evaluated on the real test split for the report only (the final
/// student is the last one, never a selected snapshot); metrics.jsonl carries the accuracy, its running
/// mean and variance over the epochs so far, the losses and the bytes held for replay. Checkpoints hold
/// student, generator, memory, their optimizers and the noise position, so --resume continues exactly.
/// </summary>
public sealed class PreDfkdDistiller(PreDfkdOptions options, IProgress? progress = null, IBackend? device = null)
{
    readonly IProgress _progress = progress ?? SilentProgress.Instance;
    readonly IBackend _device = device ?? Devices.Default;

    readonly RunFiles _files = new(options.OutDir);

    sealed record Models(Module Teacher, Module Student, DaflGenerator Generator, Optimizer StudentOptimizer, LrSchedule? Schedule,
                         Adam GeneratorOptimizer, IReplayMemory Memory, PenultimateFeatures Features, Generator Noise);

    sealed record EpochLosses(double Student, double Generator, double Disagreement, double? Memory, double Seconds);

    public IReadOnlyDictionary<string, object> Run()
    {
        options.Validate();
        var setup = TeacherSetup.Load(options.TeacherPath, options.Dataset, options.DataRoot, options.TestLimit);
        _files.Prepare(options.Resume);
        var teacher = setup.Teacher;
        teacher.Eval();
        foreach (var p in teacher.Parameters()) p.RequiresGrad = false;
        double teacherAccuracy = Evaluator.Evaluate(teacher, setup.Test, setup.Normalization, options.EvalBatchSize, BnStatistics.Running, _device).Accuracy;

        var studentSpec = setup.Spec with { Arch = options.StudentArch, Width = options.StudentWidth };
        var m = Build(teacher, setup.Spec, studentSpec);
        var parts = new List<CheckpointPart> { new("", m.Student, m.StudentOptimizer), new("generator", m.Generator, m.GeneratorOptimizer) };
        parts.AddRange(m.Memory.Parts);
        _progress.Message($"teacher {setup.Spec.Arch} x{setup.Spec.Width} ({teacherAccuracy:P2} on {setup.Dataset} test); method {options.Method}; " +
                          $"generator {m.Generator.ParameterCount():N0} parameters; replay memory {m.Memory.Bytes:N0} bytes at the start");

        var metrics = new MetricsLog(_files.Metrics);
        int start = 0;
        if (options.Resume && File.Exists(_files.Checkpoint))
        {
            (start, var meta, var arrays) = Checkpoint.Load(_files.Checkpoint, parts, options.Fingerprint());
            m.Schedule?.Resume(m.StudentOptimizer.StepCount);
            m.Noise.Offset = ulong.Parse(meta["noise_position"], CultureInfo.InvariantCulture);
            m.Memory.LoadState(arrays, meta);
            metrics.TruncateAfter(start);
            _progress.Message($"resumed from {_files.Checkpoint} after epoch {start}");
        }
        else if (File.Exists(_files.Metrics)) File.Delete(_files.Metrics);
        var accuracies = metrics.ReadAll().Select(r => r["accuracy"].GetDouble()).ToList();

        Dictionary<string, object> row = new();
        for (int epoch = start + 1; epoch <= options.Epochs; epoch++)
        {
            var losses = RunEpoch(m, epoch);
            var extra = new Dictionary<string, string> { ["noise_position"] = m.Noise.Offset.ToString(CultureInfo.InvariantCulture) };
            var arrays = m.Memory.SaveState(extra).ToList();
            Checkpoint.Save(_files.Checkpoint, parts, studentSpec, epoch, options.Fingerprint(), extra, arrays);
            ReplayPictures.Write(ReplayPictures.PathFor(options.OutDir, epoch), m.Generator, m.Memory, setup.Normalization, options.Seed + 5);
            accuracies.Add(Evaluator.Evaluate(m.Student, setup.Test, setup.Normalization, options.EvalBatchSize, BnStatistics.Running, _device).Accuracy);
            row = EpochRow(epoch, accuracies, losses, m);
            metrics.Append(row);
            _progress.EpochDone(row);
        }
        m.Features.Dispose();

        ModelFile.Save(_files.Student, m.Student, studentSpec, setup.Normalization.Mean, setup.Normalization.Std,
                       new Dictionary<string, string> { ["dataset"] = setup.Dataset, ["teacher"] = Path.GetFileName(options.TeacherPath), ["method"] = options.Method.ToString() });
        var summary = new Dictionary<string, object>
        {
            ["method"] = options.Method.ToString(), ["teacher_accuracy"] = teacherAccuracy, ["student"] = $"{studentSpec.Arch} x{studentSpec.Width}",
            ["epochs"] = options.Epochs,
        };
        foreach (var (key, value) in row) summary[key] = value;
        File.WriteAllText(_files.Summary, JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        return summary;
    }

    Models Build(Module teacher, ModelSpec teacherSpec, ModelSpec studentSpec)
    {
        Generator.ManualSeed(options.Seed);
        var student = studentSpec.Create();
        var optimConfig = options.OptimizerOrDefault;
        var optimizer = optimConfig.Create(student.Parameters());
        var schedule = optimConfig.CreateSchedule(optimizer, options.Epochs, options.StepsPerEpoch * options.KdIterations);
        var generator = new DaflGenerator(options.LatentSize, teacherSpec.InChannels, teacherSpec.ImageSize, options.GeneratorWidth, options.SpectralNorm);
        var noise = new Generator(options.Seed + 1);
        IReplayMemory memory = options.Method.Kind switch
        {
            ReplayMethod.PreDfkd => new VaeMemory(new ConvVae(options.LatentSize, teacherSpec.InChannels, teacherSpec.ImageSize, options.VaeWidth),
                                                  teacher, options.VaeLrOrDefault, options.Replay, options.KlWeight, noise),
            ReplayMethod.Buffer => new SampleBuffer(options.Method.BufferBytes, [teacherSpec.InChannels, teacherSpec.ImageSize, teacherSpec.ImageSize], noise),
            _ => new NoReplay(),
        };
        return new Models(teacher, student, generator, optimizer, schedule, new Adam(generator.Parameters(), options.GeneratorLr), memory,
                          new PenultimateFeatures(teacher), noise);
    }

    EpochLosses RunEpoch(Models m, int epoch)
    {
        m.Student.Train();
        m.Generator.Train();
        _progress.EpochStarted(epoch, options.Epochs, options.StepsPerEpoch);
        var clock = Stopwatch.StartNew();
        double student = 0, generator = 0, gap = 0, memory = 0;
        int memorySteps = 0;
        for (int step = 1; step <= options.StepsPerEpoch; step++)
        {
            using var scope = new TensorScope();
            var (g, d) = GeneratorStep(m, epoch, step);
            generator += g;
            gap += d;
            Tensor novel = null!;
            for (int k = 0; k < options.KdIterations; k++)
            {
                using (Tape.NoGrad()) novel = m.Generator.Sample(options.Novel, m.Noise);
                student += StudentStep(m, novel, epoch, step) / options.KdIterations;
            }
            if (m.Memory.Observe(novel) is double memoryLoss)
            {
                Finite(memoryLoss, "memory (VAE)", epoch, step);
                memory += memoryLoss;
                memorySteps++;
            }
            _progress.BatchDone(step, student / step, double.NaN, step * options.KdIterations * options.Novel / clock.Elapsed.TotalSeconds);
        }
        int n = options.StepsPerEpoch;
        return new EpochLosses(student / n, generator / n, gap / n, memorySteps > 0 ? memory / memorySteps : null, clock.Elapsed.TotalSeconds);
    }

    /// <summary>One generator update on a fresh batch: DAFL's terms minus the teacher-student disagreement.</summary>
    (double Loss, double Disagreement) GeneratorStep(Models m, int epoch, int step)
    {
        var x = m.Generator.Sample(options.Novel, m.Noise);
        var teacherLogits = m.Teacher.Forward(x);
        var (loss, gap) = options.GeneratorOrDefault.Loss(teacherLogits, m.Features.Last, m.Student.Forward(x), options.LossOrDefault);
        m.GeneratorOptimizer.ZeroGrad();
        loss.Backward();
        double value = Finite(loss.Item(), "generator", epoch, step);
        m.GeneratorOptimizer.Step();
        return (value, gap.Item());
    }

    /// <summary>One student update on novel samples plus replayed ones (one batch, as the authors' code concatenates them).</summary>
    double StudentStep(Models m, Tensor novel, int epoch, int step)
    {
        var replay = m.Memory.Sample(options.Replay);
        var x = replay is null ? novel : F.Concat([novel, replay], 0);
        Tensor target;
        using (Tape.NoGrad()) target = m.Teacher.Forward(x);
        var loss = options.LossOrDefault.Loss(m.Student.Forward(x), target);
        m.StudentOptimizer.ZeroGrad();
        loss.Backward();
        double value = Finite(loss.Item(), "student", epoch, step);
        m.StudentOptimizer.Step();
        m.Schedule?.Step();
        return value;
    }

    static double Finite(double value, string what, int epoch, int step) => double.IsFinite(value) ? value
        : throw new NonFiniteLossException($"the {what} loss became {value} at epoch {epoch}, step {step}; the last good checkpoint is kept (try a lower --generator-lr, --vae-lr or --lr)");

    Dictionary<string, object> EpochRow(int epoch, IReadOnlyList<double> accuracies, EpochLosses losses, Models m)
    {
        double mean = accuracies.Average();
        var row = new Dictionary<string, object>
        {
            ["epoch"] = epoch, ["accuracy"] = accuracies[^1], ["accuracy_mean"] = mean,
            ["accuracy_var"] = accuracies.Sum(a => (a - mean) * (a - mean)) / accuracies.Count, ["accuracy_best"] = accuracies.Max(),
            ["student_loss"] = losses.Student, ["generator_loss"] = losses.Generator, ["disagreement"] = losses.Disagreement,
            ["replay_bytes"] = m.Memory.Bytes, ["lr"] = m.StudentOptimizer.LearningRate, ["seconds"] = losses.Seconds,
        };
        if (losses.Memory is double vae) row["vae_loss"] = vae;
        return row;
    }
}
