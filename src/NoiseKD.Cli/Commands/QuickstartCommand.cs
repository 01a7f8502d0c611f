using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CommandLine;
using NoiseKD.Data;
using NoiseKD.Distillation;
using NoiseKD.Export;
using NoiseKD.Models;
using NoiseKD.Tensors;
using NoiseKD.Training;
using Spectre.Console;
using NoiseKD.IO;

namespace NoiseKD.Cli.Commands;

[Verb("quickstart", HelpText = "Train (or reuse) a small Fashion-MNIST teacher, distill students from Gaussian noise with the teacher's BN on running and on current statistics, and compare.")]
public sealed class QuickstartCommand : CommonOptions, ICommand
{
    [Option("out", HelpText = "Output folder (default runs/quickstart; runs/quickstart-smoke with --smoke).")] public string? OutOption { get; set; }
    [Option("smoke", Default = false, HelpText = "A smoke run of the whole path in about a minute: 1 teacher epoch on 6,000 training images, students 1 x 30 noise batches, " +
                                                 "2,000 test images. Labelled as such; its numbers only show that everything runs.")]
    public bool Smoke { get; set; }

    string Out = "";
    int? _trainLimit, _testLimit;
    [Option("teacher-arch", HelpText = "Teacher architecture (default resnet18).")] public string? TeacherArch { get; set; }
    /// <summary>The old name of --teacher-arch (elsewhere --teacher names a model file).</summary>
    [Option("teacher", Hidden = true)] public string? TeacherOld { get; set; }
    [Option("teacher-width", Default = 0.25f)] public float TeacherWidth { get; set; }
    [Option("teacher-epochs", Default = 2)] public int TeacherEpochs { get; set; }
    [Option("student-arch", HelpText = "Student architecture (default resnet18).")] public string? StudentArch { get; set; }
    /// <summary>The old name of --student-arch.</summary>
    [Option("student", Hidden = true)] public string? StudentOld { get; set; }

    string Teacher = "resnet18", Student = "resnet18";
    [Option("student-width", Default = 0.25f)] public float StudentWidth { get; set; }
    [Option("epochs", Default = 3, HelpText = "Distillation epochs of the Gaussian + CS student.")] public int Epochs { get; set; }
    [Option("rs-epochs", Default = 1, HelpText = "Distillation epochs of the Gaussian + RS control (it stays near chance at any budget; give it --epochs for equal budgets).")]
    public int RsEpochs { get; set; }
    [Option("steps", Default = 300, HelpText = "Noise batches per distillation epoch.")] public int Steps { get; set; }
    [Option("batch-size", HelpText = "Noise batch size (recipe: paper 256, engine 128); the teacher trains at 128.")] public int? BatchSize { get; set; }
    [Option("recipe", HelpText = "Distillation recipe of the students: paper (the noise-KD paper's public code: Adam 1e-3, batch 256, plateau) or engine (SGD 0.1, cosine, batch 128). Default: " + Recipes.DefaultName + ".")]
    public string? RecipeName { get; set; }
    [Option("seed", Default = 0UL)] public ulong Seed { get; set; }

    /// <summary>The teacher's own training batch (not the distillation recipe's).</summary>
    const int TeacherBatchSize = 128;

    public int Run()
    {
        // Every option is checked before any work starts: a typo must not cost a teacher's training.
        Out = OutOption ?? (Smoke ? "runs/quickstart-smoke" : "runs/quickstart");
        if (Smoke) (TeacherEpochs, Epochs, RsEpochs, Steps, _trainLimit, _testLimit) = (1, 1, 1, 30, 6000, 2000);
        Teacher = Renamed(TeacherArch, "--teacher-arch", TeacherOld, "--teacher") ?? Teacher;
        Student = Renamed(StudentArch, "--student-arch", StudentOld, "--student") ?? Student;
        if (Epochs <= 0 || RsEpochs <= 0 || Steps <= 0 || BatchSize <= 0 || TeacherEpochs <= 0)
            throw new ArgumentException("--teacher-epochs, --epochs, --rs-epochs, --steps and --batch-size must be positive");
        var recipe = NoiseRecipe.For(Recipes.Parse(RecipeName ?? Recipes.DefaultName));
        int batchSize = BatchSize ?? recipe.BatchSize;
        new ModelSpec(Teacher, TeacherWidth, 1, 10, 28).Create();
        new ModelSpec(Student, StudentWidth, 1, 10, 28).Create();
        var device = OpenDevice();
        Devices.Default = device;
        var clock = Stopwatch.StartNew();
        if (Smoke) Console.WriteLine($"SMOKE RUN (--smoke): tiny budgets, {_trainLimit:N0} training and {_testLimit:N0} test images; the numbers only show that the path runs");
        using var runLock = RunLock.Acquire(Out); // one quickstart per folder; its parts lock their own folders too
        string teacherDir = Path.Combine(Out, "teacher"), teacherModel = Path.Combine(teacherDir, "model.safetensors");
        var train = new TrainOptions(new ModelSpec(Teacher, TeacherWidth), "fashion-mnist", teacherDir, TeacherEpochs, TeacherBatchSize,
                                     new OptimizerConfig("sgd", 0.1f, 0.9f, 5e-4f, true, "cosine"), Augment: new Augmentation(2, true),
                                     Seed: Seed, TrainLimit: _trainLimit, TestLimit: _testLimit,
                                     Resume: File.Exists(Path.Combine(teacherDir, "checkpoint.safetensors")), DataRoot: DataRoot);
        // A finished part is reused only when it was made with these options; otherwise the run stops and names the differences.
        if (File.Exists(teacherModel))
        {
            RunConfig.CheckSame(teacherDir, train.Settings(), "the teacher");
            var spec = ModelFile.Load(teacherModel).File.Spec;
            CheckOlderBuild(teacherDir, "the teacher", [("--arch", spec.Arch, Teacher), ("--width", Text(spec.Width), Text(TeacherWidth)),
                                                        ("--epochs", new MetricsLog(Path.Combine(teacherDir, "metrics.jsonl")).ReadAll().Count.ToString(CultureInfo.InvariantCulture), Text(TeacherEpochs))]);
            Console.WriteLine($"reusing the teacher in {teacherModel}");
        }
        else
        {
            Console.WriteLine($"training the teacher: {Teacher} x{TeacherWidth} on Fashion-MNIST, {TeacherEpochs} epochs");
            ConsoleProgress.Run(p => new Trainer(train, p, device).Run());
        }

        var results = new Dictionary<string, IReadOnlyDictionary<string, object>>();
        foreach (var (name, bn, epochs) in new[] { ("noise_rs", "running", RsEpochs), ("noise_cs", "current", Epochs) })
        {
            string dir = Path.Combine(Out, name), summaryPath = Path.Combine(dir, "summary.json");
            var options = recipe.Apply(new DistillOptions(teacherModel, Student, dir, StudentWidth, Transfer: "gaussian", TeacherBn: TeacherBn.Parse(bn, "input"),
                                                          Epochs: epochs, StepsPerEpoch: Steps, BatchSize: batchSize, DataRoot: DataRoot, TestLimit: _testLimit, Seed: Seed,
                                                          Resume: File.Exists(Path.Combine(dir, "checkpoint.safetensors"))));
            if (File.Exists(summaryPath))
            {
                RunConfig.CheckSame(dir, options.Settings(), $"the {name} student");
                var done = RunFiles.ReadSummary(summaryPath);
                CheckOlderBuild(dir, $"the {name} student", [("--student", done.GetValueOrDefault("student").ToString(), $"{Student} x{StudentWidth}"),
                                                             ("--epochs", done.GetValueOrDefault("epochs").ToString(), Text(epochs))]);
                Console.WriteLine($"reusing {summaryPath}");
                results[name] = RunFiles.ReadSummary(summaryPath)
                    .ToDictionary(kv => kv.Key, kv => (object)(kv.Value.ValueKind == JsonValueKind.Number ? kv.Value.GetDouble() : kv.Value.ToString()));
                continue;
            }
            Console.WriteLine($"distilling {Student} x{StudentWidth} from Gaussian noise, teacher BN on {bn} statistics, {epochs} x {Steps} batches of {batchSize}; {recipe.Describe()}");
            results[name] = ConsoleProgress.Run(p => new Distiller(options, p, device).Run());
        }

        double teacherAccuracy = Convert.ToDouble(results["noise_cs"]["teacher_accuracy"]);
        var summary = new Dictionary<string, object>
        {
            ["teacher"] = teacherAccuracy,
            ["noise_rs"] = Convert.ToDouble(results["noise_rs"]["acc_cs"]),
            ["noise_cs"] = Convert.ToDouble(results["noise_cs"]["acc_cs"]),
            ["noise_rs_student_rs"] = Convert.ToDouble(results["noise_rs"]["acc_rs"]),
            ["noise_cs_student_rs"] = Convert.ToDouble(results["noise_cs"]["acc_rs"]),
            ["noise_rs_adjusted"] = Convert.ToDouble(results["noise_rs"].GetValueOrDefault("acc_rs_adjusted", double.NaN)),
            ["noise_cs_adjusted"] = Convert.ToDouble(results["noise_cs"].GetValueOrDefault("acc_rs_adjusted", double.NaN)),
            ["teacher_model"] = $"{Teacher} x{TeacherWidth}", ["student_model"] = $"{Student} x{StudentWidth}",
            ["recipe"] = recipe.Name.Name(),
            ["smoke"] = Smoke,
            ["distill_images_rs"] = RsEpochs * Steps * batchSize, ["distill_images_cs"] = Epochs * Steps * batchSize, ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
        AtomicFile.WriteAllText(Path.Combine(Out, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));

        var table = new Table().AddColumns(Smoke ? "SMOKE RUN (tiny budgets)" : "", "Fashion-MNIST test accuracy", "of teacher");
        table.AddRow("teacher (real data)", $"{teacherAccuracy:P2}", "100%");
        table.AddRow($"student, Gaussian noise + teacher RS ({RsEpochs * Steps * batchSize:N0} images)", $"{summary["noise_rs"]:P2}", $"{(double)summary["noise_rs"] / teacherAccuracy:P0}");
        table.AddRow($"student, Gaussian noise + teacher CS ({Epochs * Steps * batchSize:N0} images)", $"{summary["noise_cs"]:P2}", $"{(double)summary["noise_cs"] / teacherAccuracy:P0}");
        // Bound to the current Console.Out (not AnsiConsole's cached one), wide enough not to wrap rows in logs.
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected) console.Profile.Width = 120;
        console.Write(table);
        Console.WriteLine($"students evaluated with current statistics (batch {recipe.EvalBatchSize}); {recipe.Describe()}; numbers in {Path.Combine(Out, "summary.json")}; {clock.Elapsed.TotalMinutes:F1} min");
        // The product: the CS student as ONNX (raw [0, 1] pixels in), running statistics re-estimated from 1,000 real images as acc_rs_adjusted.
        string onnx = Path.Combine(Out, "student.onnx");
        ExportCommand.ExportOnnx(Path.Combine(Out, "noise_cs", "student.safetensors"), onnx, new OnnxExportOptions(IncludeNormalization: true), 1000, "fashion-mnist", DataRoot, device);
        Console.WriteLine($"the Gaussian + CS student as ONNX (input 'input' [N, 1, 28, 28] raw pixels in [0, 1], output 'logits' [N, 10]; " +
                          $"test accuracy {summary["noise_cs_adjusted"]:P2}, its noise_cs_adjusted): {onnx}");
        WriteReport(summary, teacherAccuracy, recipe, batchSize);
        Console.WriteLine($"report with the noise the students saw: {Path.Combine(Out, "REPORT.md")}");
        return 0;
    }

    static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);
    static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A part written before config.json existed: the few options its own files record (architecture, width,
    /// epochs) are compared instead, so an old folder is not reused under a label it does not deserve.
    /// </summary>
    static void CheckOlderBuild(string dir, string what, (string Option, string InFolder, string Asked)[] facts)
    {
        if (RunConfig.Read(dir) is not null) return;
        var diff = facts.Where(f => f.InFolder != f.Asked).Select(f => $"{f.Option}: {f.InFolder} in the folder, {f.Asked} asked").ToList();
        if (diff.Count > 0)
            throw new ArgumentException($"{what} in '{dir}' was made with other options ({string.Join("; ", diff)}); give the same options, another --out, or delete that folder");
        Console.WriteLine($"note: '{dir}' was written by an older build without config.json; only {string.Join(", ", facts.Select(f => f.Option))} could be compared");
    }

    /// <summary>REPORT.md: the side-by-side table and the first noise batch each student saw (its run's transfer.png).</summary>
    void WriteReport(Dictionary<string, object> summary, double teacherAccuracy, NoiseRecipe recipe, int batchSize)
    {
        var report = new Studies.StudyReport(Out, "Quickstart: Gaussian-noise KD on Fashion-MNIST" + (Smoke ? " (SMOKE RUN: tiny budgets, not a measurement)" : ""));
        report.Paragraph($"Teacher {Teacher} x{TeacherWidth} trained on Fashion-MNIST; students {Student} x{StudentWidth} distilled from N(0, 1) noise in the " +
                         $"normalized input space with the teacher's BatchNorm on running (RS) or current (CS) statistics; {recipe.Describe()}; students evaluated " +
                         $"on the {(_testLimit is int n ? $"first {n:N0}" : "10,000")} test images with their BN on current statistics (batch {recipe.EvalBatchSize}).");
        string Share(string key) => $"{(double)summary[key] / teacherAccuracy:P0}";
        report.Table("quickstart", ["", "test accuracy", "of teacher"],
        [
            ["teacher (real data)", $"{teacherAccuracy:P2}", "100%"],
            [$"student, Gaussian noise + teacher RS ({RsEpochs * Steps * batchSize:N0} images)", $"{summary["noise_rs"]:P2}", Share("noise_rs")],
            [$"student, Gaussian noise + teacher CS ({Epochs * Steps * batchSize:N0} images)", $"{summary["noise_cs"]:P2}", Share("noise_cs")],
        ]);
        report.Pictures(["student", "the first noise batch it saw, shown as images: x * std + mean, clipped to [0, 1]"],
                        [("teacher on RS", [Path.Combine(Out, "noise_rs", "transfer.png")]), ("teacher on CS", [Path.Combine(Out, "noise_cs", "transfer.png")])]);
        report.Paragraph("The CS student as ONNX (raw pixels in [0, 1], running statistics re-estimated from 1,000 real images): student.onnx.");
        report.Write();
    }
}
