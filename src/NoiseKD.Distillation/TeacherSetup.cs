using NoiseKD.Data;
using NoiseKD.Models;
using NoiseKD.Nn;

namespace NoiseKD.Distillation;

/// <summary>
/// What every distillation run starts from: the teacher model file, its normalization, and the real test
/// split it is judged on (the teacher's dataset unless another is named), checked to fit the teacher.
/// </summary>
public sealed record TeacherSetup(Module Teacher, ModelFile File, Normalization Normalization, string Dataset, Dataset Test)
{
    public ModelSpec Spec => File.Spec;

    public static TeacherSetup Load(string teacherPath, string? dataset, string? dataRoot, int? testLimit)
    {
        if (!System.IO.File.Exists(teacherPath)) throw new FileNotFoundException($"teacher model file '{teacherPath}' does not exist");
        var (teacher, file) = ModelFile.Load(teacherPath);
        var spec = file.Spec;
        string name = (dataset ?? file.Metadata.GetValueOrDefault("dataset") ?? "fashion-mnist").ToLowerInvariant();
        var test = DatasetCatalog.Load(name, train: false, dataRoot);
        if (testLimit is int limit) test = test.Take(limit);
        if (test.Channels != spec.InChannels || test.Height != spec.ImageSize)
            throw new ArgumentException($"teacher takes {spec.InChannels}x{spec.ImageSize}x{spec.ImageSize}, {name} has {test.Channels}x{test.Height}x{test.Width}");
        return new TeacherSetup(teacher, file, new Normalization(file.NormMean, file.NormStd), name, test);
    }
}
