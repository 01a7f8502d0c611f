using CommandLine;
using NoiseKD.Distillation;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Cli.Commands;

[Verb("distill", HelpText = "Distill a teacher into a student without the teacher's data (Gaussian-noise KD with current-statistics BatchNorm).")]
public sealed class DistillCommand : CommonOptions, ICommand
{
    [Option("teacher", Required = true, HelpText = "Teacher model file (from train or import).")] public string Teacher { get; set; } = "";
    [Option("student", Required = true, HelpText = "Student architecture (see train --model).")] public string Student { get; set; } = "";
    [Option("student-width", Default = 1f)] public float StudentWidth { get; set; }
    [Option("student-init", HelpText = "Initial student weights (model file or state dict safetensors).")] public string? StudentInit { get; set; }
    [Option("transfer", Default = "gaussian", HelpText = "gaussian[:MEAN,STD], gaussian-lowres:R, uniform, shapes, plasma, dead-leaves, real, dataset:NAME[:train|test], folder:PATH (PGM/PPM images), file:PATH (safetensors 'input').")]
    public string Transfer { get; set; } = "";
    [Option("teacher-bn", Default = "current", HelpText = "current, running or partial:P (P% of BN layers on running statistics).")]
    public string TeacherBn { get; set; } = "";
    [Option("partial-from", Default = "input", HelpText = "With partial:P, which layers go on running statistics first: input, output, or shift (least shifted by noise first; see bn-report).")]
    public string PartialFrom { get; set; } = "";
    [Option("student-bn", Default = "current", HelpText = "Student BatchNorm statistics during training: current or running.")]
    public string StudentBn { get; set; } = "";
    [Option("loss", Default = "soft-ce", HelpText = "kl:T, soft-ce (the paper's code, T=1) or l1.")] public string Loss { get; set; } = "";
    [Option("optimizer", Default = "sgd")] public string Optimizer { get; set; } = "";
    [Option("lr", Default = 0.1f)] public float Lr { get; set; }
    [Option("momentum", Default = 0.9f)] public float Momentum { get; set; }
    [Option("weight-decay", Default = 5e-4f)] public float WeightDecay { get; set; }
    [Option("nesterov", Default = false)] public bool Nesterov { get; set; }
    [Option("schedule", Default = "cosine")] public string Schedule { get; set; } = "";
    [Option("epochs", Default = 5)] public int Epochs { get; set; }
    [Option("steps", Default = 200, HelpText = "Transfer batches per epoch.")] public int Steps { get; set; }
    [Option("batch-size", Default = 128)] public int BatchSize { get; set; }
    [Option("eval-batch-size", Default = 500, HelpText = "Batch size when evaluating the student with current statistics.")] public int EvalBatchSize { get; set; }
    [Option("adjust-samples", Default = 1000, HelpText = "Real training images used to re-estimate the student's running statistics (0: skip).")]
    public int AdjustSamples { get; set; }
    [Option("dataset", HelpText = "Real data for evaluation (default: the teacher's).")] public string? Dataset { get; set; }
    [Option("test-limit")] public int? TestLimit { get; set; }
    [Option("balance", HelpText = "Balance the transfer set over the teacher's predicted classes: N images per class.")] public int? Balance { get; set; }
    [Option("balance-pool", HelpText = "Candidates drawn for balancing (default: 10 x N x classes).")] public int? BalancePool { get; set; }
    [Option("balance-missing", Default = "fill", HelpText = "Classes the teacher predicts too rarely: fill (top up with the most probable candidates) or skip.")]
    public string BalanceMissing { get; set; } = "";
    [Option("seed", Default = 0UL)] public ulong Seed { get; set; }
    [Option("out", Required = true)] public string Out { get; set; } = "";
    [Option("resume", Default = false)] public bool Resume { get; set; }

    public int Run()
    {
        var device = OpenDevice();
        Devices.Default = device;
        var optimizer = new OptimizerConfig(Optimizer, Lr, Momentum, WeightDecay, Nesterov, Schedule);
        optimizer.Validate();
        if (TestLimit is <= 0) throw new ArgumentException("--test-limit must be positive");
        var options = new DistillOptions(Teacher, Student, Out, StudentWidth, StudentInit, Transfer,
            Distillation.TeacherBn.Parse(TeacherBn, PartialFrom), BnControl.Parse(StudentBn), KdObjective.Parse(Loss), optimizer,
            Epochs, Steps, BatchSize, EvalBatchSize, AdjustSamples, Dataset, DataRoot, TestLimit, Seed, Resume,
            Balance is int n ? BalanceOptions.Parse(n, BalancePool ?? 10 * n * 10, BalanceMissing) : null);
        var summary = ConsoleProgress.Run(progress => new Distiller(options, progress, device).Run());
        Console.WriteLine($"teacher {summary["teacher_accuracy"]:P2}; student: CS {summary["acc_cs"]:P2}, RS {summary["acc_rs"]:P2}" +
                          (summary.TryGetValue("acc_rs_adjusted", out var adj) ? $", RS re-estimated {adj:P2}" : "") +
                          $"; written to {Path.Combine(Out, "student.safetensors")}");
        return 0;
    }
}
