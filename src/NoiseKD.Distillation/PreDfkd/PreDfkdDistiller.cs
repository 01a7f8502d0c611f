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
using NoiseKD.IO;

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
                         Adam GeneratorOptimizer, IReplayMemory Memory, TeacherFeatures Features, Generator Noise);

    sealed record EpochLosses(double Student, double Generator, double Disagreement, double? Memory, double Seconds);

    public IReadOnlyDictionary<string, object> Run()
    {
        options.Validate();
        var setup = TeacherSetup.Load(options.TeacherPath, options.Dataset, options.DataRoot, options.TestLimit);
        using var runLock = _files.Prepare(options.Resume);
        RunConfig.Begin(options.OutDir, "distill", options.Settings(), new RunContext(setup.Dataset, options.DataRoot, options.Seed, _device.Name),
                        continuing: options.Resume && File.Exists(_files.Checkpoint));
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
        _progress.Message($"distill into {studentSpec.Arch} x{studentSpec.Width} ({m.Student.ParameterCount():N0} parameters), evaluated on {setup.Dataset} " +
                          $"({setup.Test.Count:N0} test images): {options.Epochs} epochs of {options.StepsPerEpoch} generator steps; device {_device.Name}, " +
                          $"{NoiseKD.Backends.Cpu.CpuParallel.Threads} threads; writing to {options.OutDir}");

        var metrics = new MetricsLog(_files.Metrics);
        int start = 0;
        PartialEpoch? partial = null;
        if (options.Resume && File.Exists(_files.Checkpoint))
        {
            (start, var meta, var arrays) = Checkpoint.Load(_files.Checkpoint, parts, options.Fingerprint());
            partial = PartialEpoch.From(meta);
            m.Schedule?.Resume(m.StudentOptimizer.StepCount);
            m.Noise.Offset = ulong.Parse(meta["noise_position"], CultureInfo.InvariantCulture);
            m.Memory.LoadState(arrays, meta);
            metrics.TruncateAfter(start);
            _progress.Message($"resumed from {_files.Checkpoint} after epoch {start}" + (partial is null ? "" : $" and {partial.Steps} steps of epoch {start + 1}"));
        }
        else AtomicFile.Delete(_files.Metrics);
        var accuracies = metrics.Column("accuracy").ToList();

        Dictionary<string, object> row = new();
        for (int epoch = start + 1; epoch <= options.Epochs; epoch++)
        {
            var (losses, stopped) = RunEpoch(m, epoch, partial);
            partial = null;
            var extra = new Dictionary<string, string> { ["noise_position"] = m.Noise.Offset.ToString(CultureInfo.InvariantCulture) };
            var arrays = m.Memory.SaveState(extra).ToList();
            if (stopped is not null)
            {
                Checkpoint.Save(_files.Checkpoint, parts, studentSpec, epoch - 1, options.Fingerprint(), stopped.ToMetadata(extra), arrays);
                throw new RunStoppedException(StopSignal.Received, _files.Checkpoint, epoch, stopped.Steps);
            }
            accuracies.Add(Evaluator.Evaluate(m.Student, setup.Test, setup.Normalization, options.EvalBatchSize, BnStatistics.Running, _device).Accuracy);
            row = EpochRow(epoch, accuracies, losses, m);
            // The row goes in before the checkpoint: a kill between the two re-runs this epoch (its row is dropped and written again), never skips the row.
            metrics.Append(row);
            Checkpoint.Save(_files.Checkpoint, parts, studentSpec, epoch, options.Fingerprint(), extra, arrays);
            ReplayPictures.Write(ReplayPictures.PathFor(options.OutDir, epoch), m.Generator, m.Memory, setup.Normalization, options.Seed + 5);
            _progress.EpochDone(row);
            if (StopSignal.Requested && epoch < options.Epochs) throw new RunStoppedException(StopSignal.Received, _files.Checkpoint, epoch, options.StepsPerEpoch);
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
        AtomicFile.WriteAllText(_files.Summary, JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        return summary;
    }

    Models Build(Module teacher, ModelSpec teacherSpec, ModelSpec studentSpec)
    {
        Generator.ManualSeed(options.Seed);
        var student = studentSpec.Create();
        var optimConfig = options.OptimizerOrDefault;
        var optimizer = optimConfig.Create(student.Parameters());
        var schedule = optimConfig.CreateSchedule(optimizer, options.Epochs, options.StepsPerEpoch * options.KdIterationsOrDefault);
        var generator = new DaflGenerator(options.LatentSizeOrDefault, teacherSpec.InChannels, teacherSpec.ImageSize, options.GeneratorWidth, options.SpectralNorm);
        var noise = new Generator(options.Seed + 1);
        IReplayMemory memory = options.Method.Kind switch
        {
            ReplayMethod.PreDfkd => new VaeMemory(new ConvVae(options.LatentSizeOrDefault, teacherSpec.InChannels, teacherSpec.ImageSize, options.VaeWidth),
                                                  teacher, options.VaeLrOrDefault, options.Replay, options.KlWeight, noise,
                                                  options.SchemeOrDefault == ReplayScheme.Paper
                                                      ? new TunedReplay(options.GeneratorOrDefault, options.GeneratorLr, options.MemoryUpdatesPerStep) : null),
            ReplayMethod.Buffer => new SampleBuffer(options.Method.BufferBytes, [teacherSpec.InChannels, teacherSpec.ImageSize, teacherSpec.ImageSize], noise),
            _ => new NoReplay(),
        };
        return new Models(teacher, student, generator, optimizer, schedule, new Adam(generator.Parameters(), options.GeneratorLr), memory,
                          new TeacherFeatures(teacher, options.ActivationFeaturesOrDefault), noise);
    }

    /// <summary>One epoch, or its rest after <paramref name="resumed"/>; stops after the current step on a signal and returns where.</summary>
    (EpochLosses Losses, PartialEpoch? Stopped) RunEpoch(Models m, int epoch, PartialEpoch? resumed)
    {
        m.Student.Train();
        m.Generator.Train();
        _progress.EpochStarted(epoch, options.Epochs, options.StepsPerEpoch);
        var clock = Stopwatch.StartNew();
        if (resumed is not null && (resumed.Sums.Length != 6 || resumed.Steps < 0 || resumed.Steps >= options.StepsPerEpoch))
            throw new InvalidDataException($"checkpoint '{_files.Checkpoint}' holds a partial epoch that does not fit this run");
        double[] r = resumed?.Sums ?? new double[6];
        double student = r[0], generator = r[1], gap = r[2], memory = r[3], secondsBefore = r[5];
        int memorySteps = (int)r[4];
        for (int step = (resumed?.Steps ?? 0) + 1; step <= options.StepsPerEpoch; step++)
        {
            using var scope = new TensorScope();
            var (g, d) = GeneratorStep(m, epoch, step);
            generator += g;
            gap += d;
            int kdIterations = options.KdIterationsOrDefault;
            for (int k = 0; k < kdIterations; k++)
            {
                Tensor novel;
                using (Tape.NoGrad()) novel = m.Generator.Sample(options.Novel, m.Noise);
                student += StudentStep(m, novel, epoch, step) / kdIterations;
                if (options.MemoryLearnsAfter(k) && m.Memory.Observe(novel) is double memoryLoss)
                {
                    Finite(memoryLoss, "memory (VAE)", epoch, step);
                    memory += memoryLoss;
                    memorySteps++;
                }
            }
            _progress.BatchDone(step, student / step, double.NaN, step * kdIterations * options.Novel / clock.Elapsed.TotalSeconds);
            if (StopSignal.Requested && step < options.StepsPerEpoch)
                return (null!, new PartialEpoch(step, [student, generator, gap, memory, memorySteps, secondsBefore + clock.Elapsed.TotalSeconds]));
        }
        int n = options.StepsPerEpoch;
        return (new EpochLosses(student / n, generator / n, gap / n, memorySteps > 0 ? memory / memorySteps : null, secondsBefore + clock.Elapsed.TotalSeconds), null);
    }

    /// <summary>One generator update on a fresh batch: DAFL's terms plus the adversarial term (the student stays in train mode, as the public code).</summary>
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
