using System.Diagnostics;
using System.Globalization;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Distributed;
using NoiseKD.Functional;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Optim;
using NoiseKD.Tensors;
using NoiseKD.IO;

namespace NoiseKD.Training;

/// <summary>Everything `noisekd train` takes.</summary>
public sealed record TrainOptions(
    ModelSpec Spec,
    string Dataset,
    string OutDir,
    int Epochs = 5,
    int BatchSize = 128,
    OptimizerConfig? Optimizer = null,
    float LabelSmoothing = 0f,
    Augmentation? Augment = null,
    ulong Seed = 0,
    int? TrainLimit = null,
    int? TestLimit = null,
    int EvalBatchSize = 500,
    bool Resume = false,
    string? DataRoot = null)
{
    /// <summary>The options that decide the result, as `noisekd train` names them (config.json compares them on --resume).</summary>
    public IReadOnlyList<Setting> Settings()
    {
        var optimizer = Optimizer ?? new OptimizerConfig();
        var augment = Augment ?? Augmentation.None;
        return [Setting.Of("--arch", Spec.Arch), Setting.Of("--width", Spec.Width), Setting.Of("--dataset", Dataset), Setting.Of("--epochs", Epochs),
                Setting.Of("--batch-size", BatchSize), .. optimizer.Settings(), Setting.Of("--label-smoothing", LabelSmoothing),
                Setting.Of("--augment", Describe(augment)),
                Setting.Of("--seed", Seed), Setting.Of("--train-limit", TrainLimit), Setting.Of("--test-limit", TestLimit)];
    }

    /// <summary>"none", "crop:2", "flip" or "crop:2+flip" (the padding matters: --augment crop means 2 pixels on 28x28, 4 on 32x32).</summary>
    static string Describe(Augmentation a) =>
        a.IsNone ? "none" : string.Join("+", new[] { a.CropPadding > 0 ? $"crop:{a.CropPadding}" : null, a.HorizontalFlip ? "flip" : null }.OfType<string>());

    /// <summary>Options a --resume may change (<see cref="OptimizerConfig.ResumeMayChange"/>).</summary>
    public IReadOnlySet<string> ResumeMayChange => (Optimizer ?? new OptimizerConfig()).ResumeMayChange;

    /// <summary>
    /// Every setting of the run, as its checkpoint stores it; a resumption must match it apart from
    /// <see cref="ResumeMayChange"/> (the same rule as distill's). Checkpoints of earlier builds stored it with those
    /// options already left out, and compare equal the same way.
    /// </summary>
    public string Fingerprint() => RunConfig.Fingerprint(Settings());
}

/// <summary>
/// Supervised training of a classifier (the teacher). Writes under OutDir: checkpoint.safetensors after
/// every epoch (atomic), metrics.jsonl, and model.safetensors (a self-describing model file) at the end.
/// With <paramref name="parallel"/> it is one rank of a data-parallel job: it trains on its share of every
/// global batch, and only rank 0 writes the run folder (which every rank reads on --resume).
/// </summary>
public sealed class Trainer(TrainOptions options, IProgress? progress = null, IBackend? device = null, DataParallel? parallel = null)
{
    readonly IProgress _progress = progress ?? SilentProgress.Instance;
    readonly bool _writer = parallel?.IsWriter ?? true;

    public string CheckpointPath => Path.Combine(options.OutDir, "checkpoint.safetensors");
    public string ModelPath => Path.Combine(options.OutDir, "model.safetensors");
    public string MetricsPath => Path.Combine(options.OutDir, "metrics.jsonl");
    public string SummaryPath => Path.Combine(options.OutDir, "summary.json");

    public EvalResult Run()
    {
        if (options.Epochs <= 0) throw new ArgumentException($"epochs {options.Epochs} must be positive");
        if (options.BatchSize < 2) throw new ArgumentException($"batch size {options.BatchSize} must be at least 2 (BatchNorm needs it)");
        parallel?.CheckBatchSize(options.BatchSize);
        var train = DatasetCatalog.Load(options.Dataset, train: true, options.DataRoot);
        var test = DatasetCatalog.Load(options.Dataset, train: false, options.DataRoot);
        if (options.TrainLimit is int tl) train = train.Take(tl);
        if (options.TestLimit is int el) test = test.Take(el);
        var spec = options.Spec with { InChannels = train.Channels, Classes = train.Classes, ImageSize = train.Height };
        var normalization = DatasetCatalog.NormalizationOf(options.Dataset);
        // Batches are full (dropLast): with fewer images than one batch an epoch takes no step and has no loss to report.
        if (train.Count < options.BatchSize)
            throw new ArgumentException($"{train.Count} training images make no full batch of {options.BatchSize}, so an epoch would take no step; " +
                                        "lower --batch-size or raise --train-limit");

        using var runLock = _writer ? RunLock.Acquire(options.OutDir) : null; // before the check below: two runs must not both pass it
        parallel?.Agree(options.ToString(), "options");
        if (!options.Resume && (File.Exists(CheckpointPath) || File.Exists(ModelPath)))
            throw new ArgumentException($"'{options.OutDir}' already holds a run; pass --resume to continue it or choose another --out");
        if (_writer)
            RunConfig.Begin(options.OutDir, "train", options.Settings(), new RunContext(options.Dataset, options.DataRoot, options.Seed, (device ?? Devices.Default).Name),
                            continuing: options.Resume && (File.Exists(CheckpointPath) || File.Exists(ModelPath)), options.ResumeMayChange);

        Generator.ManualSeed(options.Seed);
        var model = spec.Create();
        var optimConfig = options.Optimizer ?? new OptimizerConfig();
        var optimizer = optimConfig.Create(model.Parameters());
        var loader = new DataLoader(train, options.BatchSize, normalization, shuffle: true, options.Seed,
                                    options.Augment ?? Augmentation.None, dropLast: true);
        var schedule = optimConfig.CreateSchedule(optimizer, options.Epochs, loader.BatchesPerEpoch);
        var metrics = new MetricsLog(MetricsPath);
        _progress.Message($"train {spec.Arch} x{spec.Width} ({model.ParameterCount():N0} parameters) on {options.Dataset} ({train.Count:N0} training, {test.Count:N0} test images): " +
                          $"{options.Epochs} epochs of {loader.BatchesPerEpoch} steps of {options.BatchSize}; device {(device ?? Devices.Default).Name}, " +
                          $"{NoiseKD.Backends.Cpu.CpuParallel.Threads} threads; writing to {options.OutDir}");

        int start = 0;
        PartialEpoch? partial = null;
        if (options.Resume && File.Exists(CheckpointPath))
        {
            (start, var meta) = Checkpoint.Load(CheckpointPath, model, optimizer, options.Fingerprint(), options.ResumeMayChange);
            partial = PartialEpoch.From(meta);
            Checkpoint.RequireWithin(start, options.Epochs, options.OutDir);
            schedule?.Resume(optimizer.StepCount);
            if (_writer) metrics.TruncateAfter(start);
            // Epochs left (a run continued with a larger --epochs): a summary.json in the folder is the shorter run's, and a
            // stop before the new end must not leave it there to read as this run's end.
            if (_writer && start < options.Epochs) AtomicFile.Delete(SummaryPath);
            _progress.Message($"resumed from {CheckpointPath} after epoch {start}" + (partial is null ? "" : $" and {partial.Steps} steps of epoch {start + 1}"));
        }
        else if (_writer) AtomicFile.Delete(MetricsPath);
        if (parallel is not null)
        {
            parallel.Agree($"{start};{optimizer.StepCount};{partial?.Steps}", "checkpoint to resume from (every rank must see the run folder)");
            parallel.BroadcastState(model);
            parallel.AttachBatchNorm(model);
        }

        EvalResult last = new(double.NaN, double.NaN, 0);
        for (int epoch = start + 1; epoch <= options.Epochs; epoch++)
        {
            var (trainLoss, trainAccuracy, seconds, stopped) = TrainEpoch(model, optimizer, schedule, loader, epoch, partial);
            partial = null;
            if (stopped is not null)
            {
                StopSignal.DelayForTests();
                if (_writer) Checkpoint.Save(CheckpointPath, model, spec, optimizer, epoch - 1, options.Fingerprint(), stopped.ToMetadata());
                throw new RunStoppedException(StopSignal.Received, CheckpointPath, epoch, stopped.Steps);
            }
            last = Evaluate(model, test, normalization);
            var row = new Dictionary<string, object>
            {
                ["epoch"] = epoch, ["train_loss"] = trainLoss, ["train_accuracy"] = trainAccuracy,
                ["test_loss"] = last.Loss, ["test_accuracy"] = last.Accuracy, ["lr"] = optimizer.LearningRate,
                ["seconds"] = seconds, ["images_per_s"] = loader.BatchesPerEpoch * options.BatchSize / seconds,
            };
            // The row goes in before the checkpoint: a kill between the two re-runs this epoch (its row is dropped and written again), never skips the row.
            if (_writer)
            {
                metrics.Append(row);
                Checkpoint.Save(CheckpointPath, model, spec, optimizer, epoch, options.Fingerprint());
            }
            _progress.EpochDone(row);
            if (StopRequested() && epoch < options.Epochs)
            {
                StopSignal.DelayForTests();
                throw new RunStoppedException(StopSignal.Received, CheckpointPath, epoch, loader.BatchesPerEpoch);
            }
        }
        // Resumed after the last epoch's checkpoint (killed while writing the model file): the same evaluation the finished epoch made.
        if (start == options.Epochs) last = Evaluate(model, test, normalization);
        if (_writer) ModelFile.Save(ModelPath, model, spec, normalization.Mean, normalization.Std,
                       new Dictionary<string, string> { ["dataset"] = options.Dataset, ["test_accuracy"] = last.Accuracy.ToString("R", CultureInfo.InvariantCulture) });
        var summary = new Dictionary<string, object>
        {
            ["accuracy"] = last.Accuracy, ["test_loss"] = last.Loss, ["samples"] = last.Samples, ["arch"] = spec.Arch, ["width"] = spec.Width,
            ["dataset"] = options.Dataset, ["epochs"] = options.Epochs,
        };
        if (_writer) AtomicFile.WriteAllText(SummaryPath, System.Text.Json.JsonSerializer.Serialize(summary, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return last;
    }

    /// <summary>Each rank evaluates its share of the test batches; the counts are added (the same result on every rank).</summary>
    EvalResult Evaluate(Module model, Dataset test, Normalization normalization)
    {
        using (parallel?.Local(model)) return Evaluator.Evaluate(model, test, normalization, options.EvalBatchSize, BnStatistics.Running, device, parallel);
    }

    /// <summary>A stop signal, agreed by every rank: they stop after the same step even if the signal reached them at different ones.</summary>
    bool StopRequested() => parallel?.AnyRank(StopSignal.Requested, "the stop-signal check") ?? StopSignal.Requested;

    /// <summary>One epoch, or its rest after <paramref name="resumed"/>; stops after the current step on a signal and returns where.</summary>
    (double Loss, double Accuracy, double Seconds, PartialEpoch? Stopped) TrainEpoch(Module model, Optimizer optimizer, LrSchedule? schedule,
                                                                                     DataLoader loader, int epoch, PartialEpoch? resumed)
    {
        model.Train();
        _progress.EpochStarted(epoch, options.Epochs, loader.BatchesPerEpoch);
        var clock = Stopwatch.StartNew();
        if (resumed is not null && (resumed.Sums.Length != 4 || resumed.Steps < 0 || resumed.Steps >= loader.BatchesPerEpoch))
            throw new InvalidDataException($"checkpoint '{CheckpointPath}' holds a partial epoch that does not fit this run");
        double lossSum = resumed?.Sums[0] ?? 0, secondsBefore = resumed?.Sums[3] ?? 0;
        long correct = (long)(resumed?.Sums[1] ?? 0), seen = (long)(resumed?.Sums[2] ?? 0);
        int b = 0, skip = resumed?.Steps ?? 0;
        foreach (var batch in loader.Epoch(epoch))
        {
            // Batches done before the stop are drawn and dropped, so the shuffle and the augmentation continue where they were.
            if (b < skip) { b++; continue; }
            using var scope = new TensorScope();
            var (x, labels) = ShareOf(batch);
            var logits = model.Forward(x);
            var loss = F.CrossEntropy(logits, labels, options.LabelSmoothing);
            lossSum += OptimizerStep.Take(loss, optimizer, schedule, () => $"training loss at epoch {epoch}, batch {b + 1}", parallel) * batch.Count;
            long right = Evaluator.CountCorrect(logits.ToArray(), labels, logits.Shape[1]);
            correct += parallel is null ? right : (long)parallel.Sum(right, "the accuracy all-reduce");
            seen += batch.Count;
            _progress.BatchDone(++b, lossSum / seen, (double)correct / seen, seen / clock.Elapsed.TotalSeconds);
            if (b < loader.BatchesPerEpoch && StopRequested())
                return (double.NaN, double.NaN, double.NaN, new PartialEpoch(b, [lossSum, correct, seen, secondsBefore + clock.Elapsed.TotalSeconds]));
        }
        return (lossSum / seen, (double)correct / seen, secondsBefore + clock.Elapsed.TotalSeconds, null);
    }

    /// <summary>The rows of a global batch this rank trains on: all of them in a single process.</summary>
    (Tensor Images, int[] Labels) ShareOf(Batch batch)
    {
        if (parallel is null) return (Tensor.FromArray(batch.ImageData, batch.Shape, device), batch.LabelData.ToArray());
        var (images, shape) = parallel.ShareOf(batch.ImageData, batch.Shape);
        var (start, count) = parallel.Share(batch.Count);
        return (Tensor.FromArray(images, shape, device), batch.LabelData.Slice(start, count).ToArray());
    }
}
