using CommandLine;
using NoiseKD.Distillation;
using NoiseKD.Distributed;
using NoiseKD.Distillation.PreDfkd;
using NoiseKD.Tensors;
using NoiseKD.Training;

namespace NoiseKD.Cli.Commands;

[Verb("distill", HelpText = "Distill a teacher into a student without the teacher's data (Gaussian-noise KD with current-statistics BatchNorm, or generative: PRE-DFKD and its ablations).")]
public sealed class DistillCommand : CommonOptions, ICommand
{
    [Option("method", Default = "noise", HelpText = "noise (transfer-set KD), pre-dfkd (generator + VAE pseudo replay), dfad (generator, no replay) or replay-buffer:MB (generator + stored samples, at most MB MiB).")]
    public string Method { get; set; } = "";
    [Option("teacher", Required = true, HelpText = "Teacher model file (from train or import).")] public string Teacher { get; set; } = "";
    [Option("student-arch", HelpText = "Student architecture (see train --arch); required.")] public string? StudentArch { get; set; }
    [Option("student", Hidden = true)] public string? StudentOld { get; set; }
    /// <summary>--student-arch, or its old spelling --student (with a notice).</summary>
    string Student = "";
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
    [Option("recipe", HelpText = "paper (the method's public code, option for option) or engine (this engine's own settings); fills every option below that is not given. Default: " + Recipes.DefaultName + ".")]
    public string? RecipeName { get; set; }
    [Option("loss", HelpText = "kl:T, soft-ce or l1 (default: soft-ce for noise, as that paper's code; l1 for the generative methods).")] public string? Loss { get; set; }
    [Option("optimizer", HelpText = "sgd, adam or adamw (recipe, noise: paper adam, engine sgd; pre-dfkd/dfad/replay-buffer: paper sgd, engine adam).")] public string? Optimizer { get; set; }
    [Option("lr", HelpText = "Learning rate (recipe, noise: paper 1e-3, engine 0.1; generative methods: paper 0.1, engine 1e-3).")] public float? Lr { get; set; }
    [Option("momentum", HelpText = "SGD momentum (0.9).")] public float? Momentum { get; set; }
    [Option("weight-decay", HelpText = "Weight decay (recipe, noise: paper 0, engine 5e-4; generative methods: paper 5e-4, engine 0).")] public float? WeightDecay { get; set; }
    [Option("nesterov", Default = false)] public bool Nesterov { get; set; }
    [Option("schedule", HelpText = "none, cosine, step:E[:G], multistep:E1,E2[:G] or plateau[:PATIENCE[:FACTOR]] (noise only: once per epoch on the student's CS test loss) (recipe, noise: paper plateau:10, engine cosine; generative methods: paper cosine, engine none).")]
    public string? Schedule { get; set; }
    [Option("epochs", Default = 5)] public int Epochs { get; set; }
    [Option("steps", Default = 200, HelpText = "Transfer batches per epoch.")] public int Steps { get; set; }
    [Option("batch-size", HelpText = "Transfer batch size (recipe: paper 256, engine 128).")] public int? BatchSize { get; set; }
    [Option("eval-batch-size", HelpText = "Batch size when evaluating the student with current statistics (recipe: paper 256, engine 500).")] public int? EvalBatchSize { get; set; }
    [Option("adjust-samples", Default = 1000, HelpText = "Real training images used to re-estimate the student's running statistics (0: skip).")]
    public int AdjustSamples { get; set; }
    [Option("dataset", HelpText = "Real data for evaluation (default: the teacher's).")] public string? Dataset { get; set; }
    [Option("test-limit")] public int? TestLimit { get; set; }
    [Option("balance", HelpText = "Balance the transfer set over the teacher's predicted classes: N images per class.")] public int? Balance { get; set; }
    [Option("balance-pool", HelpText = "Candidates drawn for balancing (default: 10 x N x the teacher's classes).")] public int? BalancePool { get; set; }
    [Option("balance-missing", Default = "fill", HelpText = "Classes the teacher predicts too rarely: fill (top up with the most probable candidates) or skip.")]
    public string BalanceMissing { get; set; } = "";
    [Option("generator-lr", Default = 0.02f, HelpText = "Generative methods: Adam learning rate of the generator.")] public float GeneratorLr { get; set; }
    [Option("vae-lr", HelpText = "pre-dfkd: Adam learning rate of the VAE memory (default: generator-lr / 40).")] public float? VaeLr { get; set; }
    [Option("novel-samples", HelpText = "Generative methods: generator samples per student update (default: --batch-size).")] public int? NovelSamples { get; set; }
    [Option("replay-samples", HelpText = "pre-dfkd, replay-buffer: replayed samples per student update (default: half the novel samples; batch // 8 with --replay-scheme paper).")] public int? ReplaySamples { get; set; }
    [Option("latent-size", HelpText = "Generative methods: latent size of the generator and the VAE (default 100; the public code's 1000).")] public int? LatentSize { get; set; }
    [Option("generator-width", Default = 1f, HelpText = "Generative methods: width of the DAFL generator (1: 128 and 64 channels).")] public float GeneratorWidth { get; set; }
    [Option("vae-width", Default = 0.5f, HelpText = "pre-dfkd: width of the VAE (its decoder is a DAFL generator of this width).")] public float VaeWidth { get; set; }
    [Option("no-spectral-norm", Default = false, HelpText = "Generative methods: plain convolutions in the generator.")] public bool NoSpectralNorm { get; set; }
    [Option("kd-iters", HelpText = "Generative methods: student updates per generator update (one step; default 5, the public code's 10).")] public int? KdIters { get; set; }
    [Option("adversarial", HelpText = "Generative methods: the generator's adversarial term: loss (minus the student's --loss against the teacher, gradient through both; default) or js (1 - JS divergence at T=3 on clamped probabilities, detached teacher, as the public PRE-DFKD code).")]
    public string? Adversarial { get; set; }
    [Option("replay-scheme", HelpText = "Generative methods: engine (default: novel/2 replayed from z ~ N(0, I), one memory update per step on the last novel batch) or paper (the public code: batch//8 replayed from latents tuned by one Adam step, 4 memory updates per step on half the novel batch plus tuned self-replay).")]
    public string? ReplayScheme { get; set; }
    [Option("activation-features", HelpText = "Generative methods: teacher features of DAFL's activation term: classifier (the last Linear layer's input; default) or first-linear (the first Linear layer's input: LeNet-5's conv3 output, as the public code).")]
    public string? ActivationFeatures { get; set; }
    [Option("sync-bn", Default = false, HelpText = TrainCommand.SyncBnHelp + " noise only; with --teacher-bn current the teacher then normalizes with the global batch's statistics, as one process on the whole batch would.")]
    public bool SyncBn { get; set; }
    [Option("seed", Default = 0UL)] public ulong Seed { get; set; }
    [Option("out", Required = true)] public string Out { get; set; } = "";
    [Option("resume", Default = false)] public bool Resume { get; set; }

    public int Run()
    {
        Student = Renamed(StudentArch, "--student-arch", StudentOld, "--student")
                  ?? throw new ArgumentException("--student-arch is required: the student's architecture, e.g. resnet18 (see train --arch)");
        var recipeName = Recipes.Parse(RecipeName ?? Recipes.DefaultName);
        if (TestLimit is <= 0) throw new ArgumentException("--test-limit must be positive");
        if (Method.ToLowerInvariant() != "noise") return RunGenerative(ReplayMethod.Parse(Method), recipeName);
        var recipe = NoiseRecipe.For(recipeName);
        var optimizer = Explicit(recipe.Optimizer);
        optimizer.Validate();
        var device = OpenDevice();
        Devices.Default = device;
        var options = new DistillOptions(Teacher, Student, Out, StudentWidth, StudentInit, Transfer,
            Distillation.TeacherBn.Parse(TeacherBn, PartialFrom), BnControl.Parse(StudentBn), Loss is null ? recipe.Loss : KdObjective.Parse(Loss), optimizer,
            Epochs, Steps, BatchSize ?? recipe.BatchSize, EvalBatchSize ?? recipe.EvalBatchSize, AdjustSamples, Dataset, DataRoot, TestLimit, Seed, Resume,
            Balance is int n ? BalanceOptions.Parse(n, BalancePool, BalanceMissing) : null);
        if (FinishedRun.Report(Resume, Out, options.Settings(), "student.safetensors")) return 0;
        Console.WriteLine($"{recipe.Describe()}; as run: {optimizer.Describe()}, batch {options.BatchSize}, {options.LossOrDefault.Describe()}");
        var parallel = DataParallel.Join(SyncBn, () => StopSignal.Requested);
        var summary = ConsoleProgress.Run(progress => new Distiller(options, progress, device, parallel).Run());
        Console.WriteLine($"teacher {summary["teacher_accuracy"]:P2}; student: CS {summary["acc_cs"]:P2}, RS {summary["acc_rs"]:P2}" +
                          (summary.TryGetValue("acc_rs_adjusted", out var adj) ? $", RS re-estimated {adj:P2}" : "") +
                          $"; written to {Path.Combine(Out, "student.safetensors")}");
        return 0;
    }

    /// <summary>The optimizer options given on the command line over a recipe's.</summary>
    OptimizerConfig Explicit(OptimizerConfig preset) => preset.With(Optimizer, Lr, Momentum, WeightDecay, Nesterov ? true : null, Schedule);

    int RunGenerative(ReplayMethod method, Recipe recipe)
    {
        if (Launcher.Detect() is not null)
            throw new ArgumentException($"--method {Method} runs in one process; data-parallel ranks (mpirun) support --method noise");
        var preset = PreDfkdRecipe.Get(recipe.Name());
        var optimizer = Explicit(preset.Optimizer);
        optimizer.Validate();
        var device = OpenDevice();
        Devices.Default = device;
        var options = new PreDfkdOptions(Teacher, Student, Out, method, StudentWidth, optimizer, Loss is null ? null : KdObjective.Parse(Loss), GeneratorLr, VaeLr,
            NovelSamples, ReplaySamples, LatentSize, GeneratorWidth, VaeWidth, !NoSpectralNorm, KdIters,
            Adversarial is null ? null : new GeneratorObjective(Disagreement: PreDfkdChoices.Adversarial(Adversarial)), Epochs: Epochs, StepsPerEpoch: Steps,
            BatchSize: BatchSize ?? 128, EvalBatchSize: EvalBatchSize ?? 500, Dataset: Dataset, DataRoot: DataRoot, TestLimit: TestLimit, Seed: Seed, Resume: Resume,
            Scheme: ReplayScheme is null ? null : PreDfkdChoices.Scheme(ReplayScheme),
            ActivationFeatures: ActivationFeatures is null ? null : PreDfkdChoices.Features(ActivationFeatures));
        options = PreDfkdRecipe.Apply(recipe.Name(), options);
        if (FinishedRun.Report(Resume, Out, options.Settings(), "student.safetensors")) return 0;
        var summary = ConsoleProgress.Run(progress => new PreDfkdDistiller(options, progress, device).Run());
        Console.WriteLine($"teacher {summary["teacher_accuracy"]:P2}; student ({method}): final {summary["accuracy"]:P2}, mean over epochs {summary["accuracy_mean"]:P2}, " +
                          $"best {summary["accuracy_best"]:P2}; replay memory {summary["replay_bytes"]:N0} bytes; written to {Path.Combine(Out, "student.safetensors")}");
        return 0;
    }
}
