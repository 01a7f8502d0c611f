using CommandLine;
using NoiseKD.Data;
using NoiseKD.Distributed;
using NoiseKD.Models;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Cli.Commands;

[Verb("train", HelpText = "Train a classifier (a teacher) on a dataset; checkpoints every epoch, resumable.")]
public sealed class TrainCommand : CommonOptions, ICommand
{
    [Option("arch", HelpText = "Architecture (required): resnet18|34|50|101, wrn-D-K, mobilenetv2, lenet5, lenet5-half, mlp.")]
    public string? Arch { get; set; }

    /// <summary>The old name of --arch (train takes no model file, so it cannot be mistaken for one).</summary>
    [Option("model", Hidden = true)] public string? Model { get; set; }

    [Option("width", Default = 1f, HelpText = "Width multiplier for channel counts.")]
    public float Width { get; set; }

    [Option("dataset", Default = "fashion-mnist", HelpText = "fashion-mnist, mnist, cifar10 or cifar100.")]
    public string Dataset { get; set; } = "";

    [Option("epochs", Default = 5)] public int Epochs { get; set; }
    [Option("batch-size", Default = 128)] public int BatchSize { get; set; }
    [Option("optimizer", Default = "sgd", HelpText = "sgd, adam or adamw.")] public string Optimizer { get; set; } = "";
    [Option("lr", Default = 0.1f)] public float Lr { get; set; }
    [Option("momentum", Default = 0.9f)] public float Momentum { get; set; }
    [Option("weight-decay", Default = 5e-4f)] public float WeightDecay { get; set; }
    [Option("nesterov", Default = false)] public bool Nesterov { get; set; }
    [Option("schedule", Default = "cosine", HelpText = "none, cosine, step:EPOCHS[:GAMMA], multistep:E1,E2[:GAMMA].")]
    public string Schedule { get; set; } = "";
    [Option("label-smoothing", Default = 0f)] public float LabelSmoothing { get; set; }
    [Option("augment", HelpText = "none, crop, flip or crop-flip (random crop with 4-pixel padding (2 for 28x28), horizontal flip). Default: crop-flip; crop for mnist (a flipped digit is another glyph).")]
    public string? Augment { get; set; }
    [Option("seed", Default = 0UL)] public ulong Seed { get; set; }
    [Option("train-limit", HelpText = "Use only the first N training images (quick runs).")] public int? TrainLimit { get; set; }
    [Option("test-limit", HelpText = "Evaluate on only the first N test images.")] public int? TestLimit { get; set; }
    [Option("out", Required = true, HelpText = "Run folder: checkpoint.safetensors, metrics.jsonl, model.safetensors.")]
    public string Out { get; set; } = "";
    [Option("resume", Default = false, HelpText = "Continue the run in --out from its last checkpoint.")] public bool Resume { get; set; }
    [Option("sync-bn", Default = false, HelpText = SyncBnHelp)] public bool SyncBn { get; set; }

    /// <summary>The --sync-bn help, shared with distill.</summary>
    public const string SyncBnHelp = "Under mpirun (data-parallel ranks, --batch-size is the global batch): BatchNorm current statistics of the global batch, " +
                                     "all-reduced over the ranks. Without it each rank normalizes its own share of the batch (PyTorch DDP's default).";

    public int Run()
    {
        string arch = Renamed(Arch, "--arch", Model, "--model") ?? throw new ArgumentException("train needs --arch (see noisekd train --help)");
        var device = OpenDevice();
        Devices.Default = device;
        var optimizer = new OptimizerConfig(Optimizer, Lr, Momentum, WeightDecay, Nesterov, Schedule);
        optimizer.Validate();
        if (TrainLimit is <= 0 || TestLimit is <= 0) throw new ArgumentException("--train-limit and --test-limit must be positive");
        var options = new TrainOptions(new ModelSpec(arch, Width), Dataset.ToLowerInvariant(), Out, Epochs, BatchSize, optimizer,
                                       LabelSmoothing, ParseAugment(Augment, Dataset), Seed, TrainLimit, TestLimit, Resume: Resume, DataRoot: DataRoot);
        new ModelSpec(arch, Width).Create(); // fail fast on a bad architecture before loading data
        if (FinishedRun.Report(Resume, Out, options.Settings(), "model.safetensors")) return 0;
        var parallel = DataParallel.Join(SyncBn, () => StopSignal.Requested);
        var result = ConsoleProgress.Run(progress => new Trainer(options, progress, device, parallel).Run());
        Console.WriteLine($"test accuracy {result.Accuracy:P2} on {result.Samples} images; model written to {Path.Combine(Out, "model.safetensors")}");
        return 0;
    }

    static Augmentation ParseAugment(string? value, string dataset)
    {
        var standard = Augmentation.Standard(dataset);
        int pad = standard.CropPadding;
        return value?.ToLowerInvariant() switch
        {
            null => standard,
            "none" => Augmentation.None,
            "crop" => new Augmentation(pad, false),
            "flip" => new Augmentation(0, true),
            "crop-flip" => new Augmentation(pad, true),
            _ => throw new ArgumentException($"--augment '{value}' must be none, crop, flip or crop-flip"),
        };
    }
}
