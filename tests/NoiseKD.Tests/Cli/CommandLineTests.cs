using System.Text.Json;
using NoiseKD.Data;
using NoiseKD.Models;
using NoiseKD.Nn;
using NoiseKD.Training;
using Xunit;

namespace NoiseKD.Tests.Cli;

/// <summary>The verbs end to end on a tiny synthetic dataset, and every user error ends in one sentence and exit code 2.</summary>
[Collection(nameof(ConsoleCollection))]
public class CommandLineTests
{
    public static TheoryData<string[], string> UserErrors => new()
    {
        { ["train", "--arch", "resnet19", "--out", "/tmp/x"], "unknown architecture 'resnet19'" },
        { ["train", "--arch", "resnet18", "--out", "/tmp/x", "--optimizer", "rmsprop"], "optimizer 'rmsprop'" },
        { ["train", "--arch", "resnet18", "--out", "/tmp/x", "--schedule", "sawtooth"], "schedule 'sawtooth'" },
        { ["train", "--arch", "resnet18", "--out", "/tmp/x", "--device", "tpu"], "--device 'tpu'" },
        { ["eval", "--model", "/nonexistent/model.safetensors"], "does not exist" },
        { ["distill", "--teacher", "/nonexistent.safetensors", "--student-arch", "resnet18", "--out", "/tmp/x"], "does not exist" },
        { ["distill", "--teacher", "/x", "--student-arch", "resnet18", "--out", "/tmp/x", "--teacher-bn", "partial:150"], "partial:P" },
        { ["distill", "--teacher", "/x", "--student-arch", "resnet18", "--out", "/tmp/x", "--loss", "hinge"], "--loss 'hinge'" },
        { ["distill", "--teacher", "/x", "--student-arch", "resnet18", "--out", "/tmp/x", "--recipe", "cookbook"], "--recipe 'cookbook' must be paper or engine" },
        { ["distill", "--teacher", "/x", "--student-arch", "resnet18", "--out", "/tmp/x", "--schedule", "plateau:x"], "'x' is not a whole number" },
        { ["train", "--arch", "resnet18", "--out", "/tmp/x", "--schedule", "plateau"], "available in distill (noise) only" },
        { ["study", "noise-kd", "--recipe", "cookbook"], "--recipe 'cookbook'" },
        { ["distill", "--method", "pre-dfkd", "--teacher", "/x", "--student-arch", "lenet5-half", "--out", "/tmp/x", "--adversarial", "kl"], "--adversarial 'kl' must be loss or js" },
        { ["distill", "--method", "pre-dfkd", "--teacher", "/x", "--student-arch", "lenet5-half", "--out", "/tmp/x", "--replay-scheme", "buffer"], "--replay-scheme 'buffer'" },
        { ["distill", "--method", "pre-dfkd", "--teacher", "/x", "--student-arch", "lenet5-half", "--out", "/tmp/x", "--activation-features", "conv3"], "--activation-features 'conv3'" },
        { ["study", "pre-dfkd", "--out", "/tmp/noisekd-study-never", "--recipe", "dafl"], "--recipe 'dafl' must be paper or engine" },
        { ["study", "everything"], "unknown study 'everything'" },
        { ["study", "noise-kd", "--students", "resnet19:0.25"], "--students: unknown architecture 'resnet19'" },
        { ["study", "noise-kd", "--students", "resnet18:-1"], "--students: 'resnet18:-1'" },
        { ["study", "noise-kd", "--students", ","], "--students: give at least one" },
        { ["study", "arbitrary", "--students", "resnet18"], "noise-kd study only" },
        { ["bench", "--arch", "resnet18", "--input", "3x32"], "--input '3x32'" },
        { ["study", "noise-kd", "--dataset", "cifar100"], "--dataset cifar100: the noise-kd study runs on fashion-mnist or cifar10" },
        { ["study", "pre-dfkd", "--dataset", "cifar10"], "the pre-dfkd study runs on fashion-mnist" },
        { ["data", "frob"], "'data frob' is not an action" },
        { ["data", "fetch", "mnist"], "'data fetch' knows cifar10 only" },
        // Checked before the teacher is trained (an empty data root would otherwise fail first, on the data).
        { ["quickstart", "--out", "/tmp/noisekd-qs-never", "--data-root", "/tmp", "--epochs", "0"], "must be positive" },
        { ["quickstart", "--out", "/tmp/noisekd-qs-never", "--data-root", "/tmp", "--student-arch", "resnet19"], "unknown architecture 'resnet19'" },
        { ["quickstart", "--out", "/tmp/noisekd-qs-never", "--data-root", "/tmp", "--teacher-width", "-1"], "width" },
    };

    [Theory]
    [MemberData(nameof(UserErrors))]
    public void UserErrorsAreOneSentenceAndExitTwo(string[] args, string expected)
    {
        var (code, _, error) = CliRunner.Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("noisekd: error: ", error);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void StudentListsParseArchitecturesAndWidths()
    {
        var students = NoiseKD.Cli.Commands.StudyCommand.ParseStudents("ResNet34:0.125, mobilenetv2 ,wrn-16-2:0.5");
        Assert.Equal([("resnet34", 0.125f), ("mobilenetv2", 1f), ("wrn-16-2", 0.5f)], students);
    }

    [Fact]
    public void TrainEvalAndDistillFromTheCommandLine()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 256, 100);
        string[] common = ["--data-root", dir.Path];
        var (code, output, error) = CliRunner.Run(["train", "--arch", "resnet18", "--width", "0.0625", "--epochs", "1", "--batch-size", "32",
                                                   "--lr", "0.05", "--out", dir.File("teacher"), .. common]);
        Assert.True(code == 0, error);
        Assert.Contains("test accuracy", output);

        (code, output, error) = CliRunner.Run(["eval", "--model", dir.File("teacher/model.safetensors"), "--json", "--batch-size", "50", .. common]);
        Assert.True(code == 0, error);
        using (var json = JsonDocument.Parse(output.Trim()))
        {
            double accuracy = json.RootElement.GetProperty("accuracy").GetDouble();
            Assert.InRange(accuracy, 0.0, 1.0); // a fraction, not a percentage
            Assert.Equal(100, json.RootElement.GetProperty("samples").GetInt32());
        }

        (code, output, error) = CliRunner.Run(["distill", "--teacher", dir.File("teacher/model.safetensors"), "--student-arch", "resnet18", "--student-width", "0.0625",
                                               "--epochs", "1", "--steps", "3", "--batch-size", "16", "--eval-batch-size", "50", "--adjust-samples", "32",
                                               "--out", dir.File("student"), .. common]);
        Assert.True(code == 0, error);
        Assert.Contains("student: CS", output);
        Assert.True(File.Exists(dir.File("student/student.safetensors")));

        // --recipe paper fills what is not given (Adam 1e-3, no weight decay, plateau); an explicit option wins.
        (code, output, error) = CliRunner.Run(["distill", "--teacher", dir.File("teacher/model.safetensors"), "--student-arch", "resnet18", "--student-width", "0.0625",
                                               "--epochs", "1", "--steps", "2", "--batch-size", "16", "--adjust-samples", "0", "--recipe", "paper",
                                               "--out", dir.File("paper"), .. common]);
        Assert.True(code == 0, error);
        Assert.Contains("paper recipe: adam lr 0.001, weight decay 0, schedule plateau:10, batch 256", output);
        Assert.Contains("as run: adam lr 0.001, weight decay 0, schedule plateau:10, batch 16", output);
        Assert.Equal(0.001, new MetricsLog(dir.File("paper/metrics.jsonl")).ReadAll()[0]["lr"].GetDouble(), 6);
        (code, output, error) = CliRunner.Run(["distill", "--teacher", dir.File("teacher/model.safetensors"), "--student-arch", "resnet18", "--student-width", "0.0625",
                                               "--epochs", "1", "--steps", "2", "--batch-size", "16", "--adjust-samples", "0", "--recipe", "paper", "--lr", "0.004",
                                               "--schedule", "none", "--out", dir.File("paper-lr"), .. common]);
        Assert.True(code == 0, error);
        Assert.Contains("as run: adam lr 0.004, weight decay 0, schedule none", output);
        Assert.Equal(0.004, new MetricsLog(dir.File("paper-lr/metrics.jsonl")).ReadAll()[0]["lr"].GetDouble(), 6);

        // Running again into the same folder without --resume must not destroy the run.
        (code, _, error) = CliRunner.Run(["distill", "--teacher", dir.File("teacher/model.safetensors"), "--student-arch", "resnet18", "--student-width", "0.0625",
                                          "--epochs", "1", "--steps", "3", "--out", dir.File("student"), .. common]);
        Assert.Equal(2, code);
        Assert.Contains("--resume", error);
    }

    [Fact]
    public void QuickstartWritesTheSummaryScriptsRead()
    {
        using var dir = new TempDir();
        SyntheticFashionMnist.Write(dir.Path, 256, 100);
        string[] args = ["quickstart", "--out", dir.File("qs"), "--teacher-width", "0.0625", "--student-width", "0.0625", "--teacher-epochs", "1",
                         "--epochs", "2", "--rs-epochs", "1", "--steps", "2", "--batch-size", "16", "--data-root", dir.Path];
        var (code, output, error) = CliRunner.Run(args);
        Assert.True(code == 0, error);
        Assert.Contains("summary.json", output);

        using var json = JsonDocument.Parse(File.ReadAllText(dir.File("qs/summary.json")));
        var root = json.RootElement;
        var test = DatasetCatalog.Load("fashion-mnist", false, dir.Path);
        // Each number is the accuracy its model file gives when evaluated independently, as a fraction.
        foreach (var (key, model, bn) in new[] { ("teacher", "qs/teacher/model.safetensors", BnStatistics.Running),
                                                 ("noise_rs", "qs/noise_rs/student.safetensors", BnStatistics.Current),
                                                 ("noise_cs", "qs/noise_cs/student.safetensors", BnStatistics.Current) })
        {
            var (net, file) = ModelFile.Load(dir.File(model));
            double expected = Evaluator.Evaluate(net, test, new Normalization(file.NormMean, file.NormStd), 500, bn).Accuracy;
            Assert.Equal(expected, root.GetProperty(key).GetDouble(), 6);
        }
        Assert.Equal(1 * 2 * 16, root.GetProperty("distill_images_rs").GetInt32());
        Assert.Equal(2 * 2 * 16, root.GetProperty("distill_images_cs").GetInt32());
        Assert.Single(File.ReadAllLines(dir.File("qs/noise_rs/metrics.jsonl")));
        Assert.Equal(2, File.ReadAllLines(dir.File("qs/noise_cs/metrics.jsonl")).Length);
        Assert.Contains(dir.File("qs/student.onnx"), output); // the student as ONNX, next to the summary
        // REPORT.md shows the table and the noise each student saw (both pictures exist and are linked).
        string report = File.ReadAllText(dir.File("qs/REPORT.md"));
        Assert.Contains("![teacher on RS](noise_rs/transfer.png)", report);
        Assert.Contains("![teacher on CS](noise_cs/transfer.png)", report);
        Assert.True(File.Exists(dir.File("qs/noise_rs/transfer.png")) && File.Exists(dir.File("qs/noise_cs/transfer.png")));
        Assert.Contains($"{root.GetProperty("noise_cs").GetDouble():P2}", report);
        // ONNX Runtime on that file classifies the test set as the student with re-estimated running statistics does.
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(dir.File("qs/student.onnx")))
        {
            int correct = 0;
            for (int i = 0; i < test.Count; i++)
            {
                var image = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(test.Image(i).ToArray().Select(p => p / 255f).ToArray(), [1, 1, 28, 28]);
                using var result = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("input", image)]);
                if (Evaluator.ArgMax(result.Single().AsTensor<float>().ToArray()) == test.Labels[i]) correct++;
            }
            Assert.Equal(root.GetProperty("noise_cs_adjusted").GetDouble(), (double)correct / test.Count, 6);
        }

        // A second run reuses the teacher and both students.
        (code, output, error) = CliRunner.Run(args);
        Assert.True(code == 0, error);
        Assert.Contains("reusing the teacher", output);
        Assert.Contains("noise_rs/summary.json", output);
        Assert.Contains("noise_cs/summary.json", output);
        Assert.DoesNotContain("distilling", output);

        // Other options are refused, not reused under a misleading label: the differences are named per part.
        (code, _, error) = CliRunner.Run(args.Select((a, i) => i > 0 && args[i - 1] == "--rs-epochs" ? "2" : a).ToArray());
        Assert.Equal(2, code);
        Assert.Contains("the noise_rs student", error);
        Assert.Contains("--epochs: 1 in the folder, 2 asked", error);
        Assert.Single(error.Trim().Split('\n'));
        (code, _, error) = CliRunner.Run([.. args, "--teacher-arch", "lenet5-half"]);
        Assert.Equal(2, code);
        Assert.Contains("the teacher", error);
        Assert.Contains("--arch: resnet18 in the folder, lenet5-half asked", error);
        Assert.Equal(root.GetProperty("noise_rs").GetDouble(), JsonDocument.Parse(File.ReadAllText(dir.File("qs/summary.json"))).RootElement.GetProperty("noise_rs").GetDouble());

        // Parts from an older build (no config.json): the architecture, width and epochs their own files record are compared.
        foreach (string part in new[] { "teacher", "noise_rs", "noise_cs" }) File.Delete(dir.File($"qs/{part}/config.json"));
        (code, _, error) = CliRunner.Run(args.Select((a, i) => i > 0 && args[i - 1] == "--rs-epochs" ? "2" : a).ToArray());
        Assert.Equal(2, code);
        Assert.Contains("the noise_rs student", error);
        Assert.Contains("(--epochs: 1 in the folder, 2 asked)", error);
        (code, _, error) = CliRunner.Run([.. args, "--teacher-arch", "lenet5-half"]);
        Assert.Equal(2, code);
        Assert.Contains("(--arch: resnet18 in the folder, lenet5-half asked)", error);
        (code, output, error) = CliRunner.Run(args);
        Assert.True(code == 0, error);
        Assert.Contains("written by an older build without config.json; only --arch, --width, --epochs could be compared", output);
        Assert.DoesNotContain("distilling", output);
    }
}
