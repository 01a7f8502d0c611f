using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Distributed;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Tensors;
using NoiseKD.Training;
using NoiseKD.IO;

namespace NoiseKD.Distillation;

/// <summary>Everything `noisekd distill` takes.</summary>
public sealed record DistillOptions(
    string TeacherPath,
    string StudentArch,
    string OutDir,
    float StudentWidth = 1f,
    string? StudentInit = null,
    string Transfer = "gaussian",
    TeacherBn? TeacherBn = null,
    BnStatistics StudentBn = BnStatistics.Current,
    KdObjective? Loss = null,
    OptimizerConfig? Optimizer = null,
    int Epochs = 5,
    int StepsPerEpoch = 200,
    int BatchSize = 128,
    int EvalBatchSize = 500,
    int AdjustSamples = 1000,
    string? Dataset = null,
    string? DataRoot = null,
    int? TestLimit = null,
    ulong Seed = 0,
    bool Resume = false,
    BalanceOptions? Balance = null)
{
    public TeacherBn TeacherBnOrDefault => TeacherBn ?? new TeacherBn(0);
    public KdObjective LossOrDefault => Loss ?? KdObjective.Parse("soft-ce");
    public OptimizerConfig OptimizerOrDefault => Optimizer ?? new OptimizerConfig("sgd", 0.1f, 0.9f, 5e-4f, false, "cosine");

    /// <summary>The options that decide the result, as `noisekd distill` names them (config.json compares them on --resume and reuse).</summary>
    public IReadOnlyList<Setting> Settings()
    {
        var bn = TeacherBnOrDefault;
        var loss = LossOrDefault;
        return [Setting.Of("--teacher", Path.GetFullPath(TeacherPath)), Setting.Of("--student-arch", StudentArch), Setting.Of("--student-width", StudentWidth),
                Setting.Of("--student-init", StudentInit is null ? null : Path.GetFullPath(StudentInit)), Setting.Of("--transfer", Transfer),
                Setting.Of("--teacher-bn", bn.RunningPercent switch { 0 => "current", 100 => "running", var p => $"partial:{p.ToString("R", CultureInfo.InvariantCulture)}" }),
                Setting.Of("--partial-from", bn.From), Setting.Of("--student-bn", StudentBn.ToString().ToLowerInvariant()),
                Setting.Of("--loss", loss.Kind == "kl" ? $"kl:{loss.Temperature.ToString("R", CultureInfo.InvariantCulture)}" : loss.Kind), .. OptimizerOrDefault.Settings(),
                Setting.Of("--epochs", Epochs), Setting.Of("--steps", StepsPerEpoch), Setting.Of("--batch-size", BatchSize), Setting.Of("--eval-batch-size", EvalBatchSize),
                Setting.Of("--adjust-samples", AdjustSamples), Setting.Of("--dataset", Dataset), Setting.Of("--test-limit", TestLimit), Setting.Of("--seed", Seed),
                Setting.Of("--balance", Balance is { } b ? $"{b.PerClass} per class, pool {b.PoolSize?.ToString(CultureInfo.InvariantCulture) ?? "default"}, missing {b.Missing}" +
                                                           (b.Balanced ? "" : ", unbalanced") : null)];
    }

    /// <summary>The options that must not change between a run and its resumption (a checkpoint stores it).</summary>
    public string Fingerprint() => RunConfig.Fingerprint(Settings());

    /// <summary>Options a --resume may change (<see cref="OptimizerConfig.ResumeMayChange"/>).</summary>
    public IReadOnlySet<string> ResumeMayChange => OptimizerOrDefault.ResumeMayChange;
}

/// <summary>
/// Data-free distillation: the student learns the teacher's outputs on transfer batches (Gaussian noise by
/// default) with the teacher's BatchNorm on current batch statistics (Raikwar &amp; Mishra 2022, Sec. 3).
/// After every epoch the student is evaluated on the real test split three ways: with current statistics
/// (acc_cs), with the running statistics it accumulated (acc_rs), and with running statistics re-estimated
/// from real training images (acc_rs_adjusted). Writes checkpoint.safetensors (atomic, every epoch),
/// metrics.jsonl, student.safetensors and summary.json under OutDir. With <paramref name="parallel"/> it is
/// one rank of a data-parallel job: every rank draws the same global transfer batch, the teacher and the
/// student see this rank's share of it, and only rank 0 writes the run folder.
/// </summary>
public sealed class Distiller(DistillOptions options, IProgress? progress = null, IBackend? device = null, DataParallel? parallel = null)
{
    readonly bool _writer = parallel?.IsWriter ?? true;
    readonly IProgress _progress = progress ?? SilentProgress.Instance;
    readonly IBackend _device = device ?? Devices.Default;

    readonly RunFiles _files = new(options.OutDir);

    public IReadOnlyDictionary<string, object> Run()
    {
        Validate();
        var (teacher, teacherFile, normalization, dataset, test) = TeacherSetup.Load(options.TeacherPath, options.Dataset, options.DataRoot, options.TestLimit);
        var spec = teacherFile.Spec;
        Dataset? trainSet = null;
        Dataset Train() => trainSet ??= DatasetCatalog.Load(dataset, train: true, options.DataRoot);

        using var runLock = _files.Prepare(options.Resume, _writer);
        if (_writer)
            RunConfig.Begin(options.OutDir, "distill", options.Settings(), new RunContext(dataset, options.DataRoot, options.Seed, _device.Name),
                            continuing: options.Resume && File.Exists(_files.Checkpoint), options.ResumeMayChange);
        parallel?.Agree(options + ";teacher SHA-256 " + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(options.TeacherPath))),
                        "options and teacher file");

        teacher.Eval();
        var teacherAccuracy = Evaluator.Evaluate(teacher, test, normalization, options.EvalBatchSize, BnStatistics.Running, _device, parallel).Accuracy;

        Generator.ManualSeed(options.Seed);
        var studentSpec = spec with { Arch = options.StudentArch, Width = options.StudentWidth };
        var student = studentSpec.Create();
        if (options.StudentInit is not null) LoadStudentInit(student, options.StudentInit);
        foreach (var layer in BnControl.Layers(student)) layer.Statistics = options.StudentBn;

        var optimConfig = options.OptimizerOrDefault;
        var optimizer = optimConfig.Create(student.Parameters());
        var schedule = optimConfig.CreateSchedule(optimizer, options.Epochs, options.StepsPerEpoch, plateauAllowed: true);
        // The paper recipe's ReduceLROnPlateau watches the student's test loss on current statistics, once per epoch, as its public code does.
        var plateau = optimConfig.CreatePlateau(optimizer);
        var transfer = TransferSet.Parse(options.Transfer, spec.InChannels, spec.ImageSize, normalization, options.Seed + 1, _device, Train, options.DataRoot);
        int[]? shiftOrder = null;
        if (options.TeacherBnOrDefault.NeedsShiftRanking)
        {
            var probe = TransferSet.Parse(options.Transfer, spec.InChannels, spec.ImageSize, normalization, options.Seed + 3, _device, Train, options.DataRoot);
            shiftOrder = BnProbe.RankByShift(teacher, Enumerable.Range(0, 4).Select(_ => (Func<Tensor>)(() => probe.Next(options.BatchSize))));
        }
        int teacherRunningLayers = options.TeacherBnOrDefault.Apply(teacher, shiftOrder);
        // The method works through the teacher's BatchNorm on the noise batch's own statistics (Raikwar & Mishra 2022, Sec. 3); without BN there is nothing to switch.
        if (BnControl.Layers(teacher).Count == 0)
            _progress.Message($"warning: the teacher {spec.Arch} has no BatchNorm layer, so nothing adapts to the transfer batches: noise KD works through the teacher's BN statistics (Raikwar & Mishra 2022), and this run has none");
        var metrics = new MetricsLog(_files.Metrics);
        BalanceReport? balance = null;
        if (options.Balance is { } b)
        {
            (transfer, balance) = BalancedTransfer.Build(transfer, teacher, spec.Classes, b, options.BatchSize, options.Seed + 2, _device);
            _progress.Message($"balanced {balance.Pool} candidates: teacher classes before [{BalancedTransfer.FormatHistogram(balance.Before)}], " +
                              $"after [{BalancedTransfer.FormatHistogram(balance.After)}], filled [{BalancedTransfer.FormatHistogram(balance.Filled)}]");
        }
        if (_writer)
            (transfer is BalancedTransfer fixedSet ? TransferPreview.ByClass(fixedSet, spec.Classes, spec.InChannels, spec.ImageSize, normalization)
            : TransferPreview.FirstBatch(TransferSet.Parse(options.Transfer, spec.InChannels, spec.ImageSize, normalization, options.Seed + 1, _device, Train, options.DataRoot),
                                         options.BatchSize, normalization)).WritePng(_files.TransferGrid);
        _progress.Message($"teacher {spec.Arch} x{spec.Width} ({teacherAccuracy:P2} on {dataset} test with RS); BN: {options.TeacherBnOrDefault.Describe()} " +
                          $"({teacherRunningLayers} of {BnControl.Layers(teacher).Count} layers on RS); transfer: {transfer.Describe()}; loss: {options.LossOrDefault.Describe()}");

        _progress.Message($"distill into {studentSpec.Arch} x{studentSpec.Width} ({student.ParameterCount():N0} parameters), evaluated on {dataset} ({test.Count:N0} test images): " +
                          $"{options.Epochs} epochs of {options.StepsPerEpoch} steps of {options.BatchSize}; device {_device.Name}, " +
                          $"{NoiseKD.Backends.Cpu.CpuParallel.Threads} threads; writing to {options.OutDir}");
        int start = 0;
        PartialEpoch? partial = null;
        if (options.Resume && File.Exists(_files.Checkpoint))
        {
            (start, var meta) = Checkpoint.Load(_files.Checkpoint, student, optimizer, options.Fingerprint(), options.ResumeMayChange);
            partial = PartialEpoch.From(meta);
            Checkpoint.RequireWithin(start, options.Epochs, options.OutDir);
            schedule?.Resume(optimizer.StepCount);
            transfer.Position = ulong.Parse(meta["transfer_position"], CultureInfo.InvariantCulture);
            if (_writer) metrics.TruncateAfter(start);
            // Epochs left (a run continued with a larger --epochs): a summary.json in the folder is the shorter run's, and a
            // stop before the new end must not leave it there to read as this run's end.
            if (_writer && start < options.Epochs) AtomicFile.Delete(_files.Summary);
            if (plateau is not null) ReplayPlateau(plateau, optimizer, metrics, start);
            _progress.Message($"resumed from {_files.Checkpoint} after epoch {start}" + (partial is null ? "" : $" and {partial.Steps} steps of epoch {start + 1}"));
        }
        else if (_writer) AtomicFile.Delete(_files.Metrics);
        if (balance is not null && start == 0 && _writer) metrics.Append(balance.ToMetrics());
        if (parallel is not null)
        {
            parallel.Agree($"{start};{optimizer.StepCount};{partial?.Steps};{transfer.Position}", "checkpoint to resume from (every rank must see the run folder)");
            parallel.BroadcastState(student);
            parallel.AttachBatchNorm(teacher);
            parallel.AttachBatchNorm(student);
        }

        Dictionary<string, object> row = new();
        for (int epoch = start + 1; epoch <= options.Epochs; epoch++)
        {
            var (loss, seconds, stopped) = DistillEpoch(teacher, student, optimizer, schedule, transfer, epoch, partial);
            partial = null;
            var position = new Dictionary<string, string> { ["transfer_position"] = transfer.Position.ToString(CultureInfo.InvariantCulture) };
            if (stopped is not null)
            {
                if (_writer) Checkpoint.Save(_files.Checkpoint, student, studentSpec, optimizer, epoch - 1, options.Fingerprint(), stopped.ToMetadata(position));
                throw new RunStoppedException(StopSignal.Received, _files.Checkpoint, epoch, stopped.Steps);
            }
            row = new Dictionary<string, object> { ["epoch"] = epoch, ["kd_loss"] = loss, ["lr"] = optimizer.LearningRate, ["seconds"] = seconds,
                                                   ["images_per_s"] = options.StepsPerEpoch * options.BatchSize / seconds };
            foreach (var (key, value) in EvaluateStudent(student, test, Train, normalization)) row[key] = value;
            // The row goes in before the checkpoint: a kill between the two re-runs this epoch (its row is dropped and written again), never skips the row.
            if (_writer) metrics.Append(row);
            plateau?.Step((double)row["test_loss_cs"]);
            if (_writer) Checkpoint.Save(_files.Checkpoint, student, studentSpec, optimizer, epoch, options.Fingerprint(), position);
            _progress.EpochDone(row);
            if (StopRequested() && epoch < options.Epochs) throw new RunStoppedException(StopSignal.Received, _files.Checkpoint, epoch, options.StepsPerEpoch);
        }

        if (start == options.Epochs && start > 0) row = FinishedRunRow(student, test, Train, normalization, metrics, start);

        var extra = new Dictionary<string, string> { ["dataset"] = dataset, ["teacher"] = Path.GetFileName(options.TeacherPath), ["transfer"] = options.Transfer };
        if (_writer) ModelFile.Save(_files.Student, student, studentSpec, normalization.Mean, normalization.Std, extra);
        var summary = new Dictionary<string, object>
        {
            ["teacher_accuracy"] = teacherAccuracy, ["teacher_bn"] = options.TeacherBnOrDefault.Describe(), ["transfer"] = options.Transfer,
            ["student"] = $"{studentSpec.Arch} x{studentSpec.Width}", ["epochs"] = options.Epochs,
        };
        foreach (var (key, value) in row) summary[key] = value;
        if (balance is not null)
            foreach (var (key, value) in balance.ToMetrics().Where(kv => kv.Key != "epoch")) summary[key] = value;
        // One accuracy vocabulary across verbs (accuracy_*); the acc_* keys stay for the scripts that read them.
        foreach (var (old, key) in new[] { ("acc_cs", "accuracy_cs"), ("acc_rs", "accuracy_rs"), ("acc_rs_adjusted", "accuracy_rs_adjusted") })
            if (summary.TryGetValue(old, out var value)) summary[key] = value;
        if (_writer) AtomicFile.WriteAllText(_files.Summary, JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        return summary;
    }

    /// <summary>
    /// A resumed run whose last epoch was already checkpointed (it stopped before writing its summary):
    /// that epoch's metrics row, or, if the stop came before the row was written, a fresh evaluation of the checkpointed student.
    /// </summary>
    Dictionary<string, object> FinishedRunRow(Module student, Dataset test, Func<Dataset> train, Normalization normalization, MetricsLog metrics, int epoch)
    {
        var last = metrics.ReadAll().LastOrDefault(r => r.TryGetValue("epoch", out var e) && e.GetInt32() == epoch && r.ContainsKey("acc_cs"));
        if (last is not null)
            return last.Where(kv => kv.Value.ValueKind == JsonValueKind.Number).ToDictionary(kv => kv.Key, kv => (object)kv.Value.GetDouble());
        var row = new Dictionary<string, object> { ["epoch"] = epoch };
        foreach (var (key, value) in EvaluateStudent(student, test, train, normalization)) row[key] = value;
        if (_writer) metrics.Append(row);
        return row;
    }

    /// <summary>One epoch, or its rest after <paramref name="resumed"/> (the transfer set's position was restored with the checkpoint); stops after the current step on a signal.</summary>
    (double Loss, double Seconds, PartialEpoch? Stopped) DistillEpoch(Module teacher, Module student, Optimizer optimizer, LrSchedule? schedule,
                                                                      TransferSet transfer, int epoch, PartialEpoch? resumed)
    {
        student.Train();
        _progress.EpochStarted(epoch, options.Epochs, options.StepsPerEpoch);
        var clock = Stopwatch.StartNew();
        if (resumed is not null && (resumed.Sums.Length != 2 || resumed.Steps < 0 || resumed.Steps >= options.StepsPerEpoch))
            throw new InvalidDataException($"checkpoint '{_files.Checkpoint}' holds a partial epoch that does not fit this run");
        double lossSum = resumed?.Sums[0] ?? 0, secondsBefore = resumed?.Sums[1] ?? 0;
        for (int step = (resumed?.Steps ?? 0) + 1; step <= options.StepsPerEpoch; step++)
        {
            using var scope = new TensorScope();
            var global = transfer.Next(options.BatchSize);
            var x = parallel is null ? global : parallel.ShareOf(global);
            Tensor target;
            // The teacher's activations go back to the pool before the student's forward: only its output is kept.
            using (var teacherScope = new TensorScope())
            using (Tape.NoGrad()) target = teacherScope.Keep(teacher.Forward(x));
            var loss = options.LossOrDefault.Loss(student.Forward(x), target);
            lossSum += OptimizerStep.Take(loss, optimizer, schedule, () => $"distillation loss at epoch {epoch}, step {step}", parallel);
            _progress.BatchDone(step, lossSum / step, double.NaN, step * options.BatchSize / clock.Elapsed.TotalSeconds);
            if (step < options.StepsPerEpoch && StopRequested())
                return (double.NaN, double.NaN, new PartialEpoch(step, [lossSum, secondsBefore + clock.Elapsed.TotalSeconds]));
        }
        return (lossSum / options.StepsPerEpoch, secondsBefore + clock.Elapsed.TotalSeconds, null);
    }

    /// <summary>
    /// A resumed run's plateau schedule: the epochs already run are fed to a fresh one in order, from the initial rate,
    /// so it continues with the rate, best loss and patience count the uninterrupted run would have.
    /// </summary>
    static void ReplayPlateau(ReduceLrOnPlateau plateau, Optimizer optimizer, MetricsLog metrics, int epochsDone)
    {
        optimizer.LearningRate = optimizer.InitialLearningRate;
        // Rows after the checkpoint's epoch are left out here too: a data-parallel rank other than 0 reads the file without truncating it.
        foreach (var row in metrics.ReadAll().Where(r => !r.TryGetValue("epoch", out var e) || e.GetInt32() <= epochsDone))
            if (row.TryGetValue("test_loss_cs", out var loss)) plateau.Step(loss.GetDouble());
    }

    /// <summary>A stop signal, agreed by every rank: they stop after the same step even if the signal reached them at different ones.</summary>
    bool StopRequested() => parallel?.AnyRank(StopSignal.Requested, "the stop-signal check") ?? StopSignal.Requested;

    /// <summary>
    /// Each rank evaluates its share of the test batches (BatchNorm unsynced: a batch's current statistics are its own,
    /// as in one process); the sums are added in rank order, so the plateau schedule agrees everywhere. The running
    /// statistics' re-estimation runs whole on every rank (the same images, the same result).
    /// </summary>
    Dictionary<string, object> EvaluateStudent(Module student, Dataset test, Func<Dataset> train, Normalization normalization)
    {
        using var local = parallel?.Local(student);
        var current = Evaluator.Evaluate(student, test, normalization, options.EvalBatchSize, BnStatistics.Current, _device, parallel);
        var result = new Dictionary<string, object>
        {
            ["acc_cs"] = current.Accuracy,
            ["test_loss_cs"] = current.Loss,
            ["acc_rs"] = Evaluator.Evaluate(student, test, normalization, options.EvalBatchSize, BnStatistics.Running, _device, parallel).Accuracy,
        };
        if (options.AdjustSamples > 0)
        {
            using var keep = BnRecalibration.Preserve(student);
            BnRecalibration.Reestimate(student, train().Take(options.AdjustSamples), normalization, Math.Min(options.EvalBatchSize, options.AdjustSamples), _device);
            result["acc_rs_adjusted"] = Evaluator.Evaluate(student, test, normalization, options.EvalBatchSize, BnStatistics.Running, _device, parallel).Accuracy;
        }
        return result;
    }

    static void LoadStudentInit(Module student, string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--student-init file '{path}' does not exist");
        var (arrays, _) = Serialization.Safetensors.Read(path);
        try { StateDictIo.Load(student, arrays); }
        catch (InvalidDataException e) { throw new ArgumentException($"--student-init '{path}' does not fit the student: {e.Message}"); }
    }

    void Validate()
    {
        if (options.Epochs <= 0 || options.StepsPerEpoch <= 0) throw new ArgumentException("epochs and steps per epoch must be positive");
        if (options.BatchSize < 2) throw new ArgumentException($"batch size {options.BatchSize} must be at least 2 (BatchNorm needs it)");
        parallel?.CheckBatchSize(options.BatchSize);
        if (options.EvalBatchSize < 2) throw new ArgumentException($"eval batch size {options.EvalBatchSize} must be at least 2");
        if (options.AdjustSamples < 0) throw new ArgumentException("--adjust-samples must be non-negative");
    }
}
