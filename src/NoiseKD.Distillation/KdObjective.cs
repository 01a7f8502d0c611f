using System.Globalization;
using NoiseKD.Functional;
using NoiseKD.Tensors;

namespace NoiseKD.Distillation;

/// <summary>The distillation loss between student and teacher logits: kl:T, soft-ce or l1.</summary>
public sealed record KdObjective(string Kind, float Temperature)
{
    public static KdObjective Parse(string value)
    {
        var v = value.ToLowerInvariant();
        if (v == "soft-ce") return new("soft-ce", 1f);
        if (v == "l1") return new("l1", 1f);
        if (v.StartsWith("kl:", StringComparison.Ordinal) && float.TryParse(v[3..], NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && t > 0)
            return new("kl", t);
        if (v == "kl") return new("kl", 4f);
        throw new ArgumentException($"--loss '{value}' must be kl:T (T > 0), soft-ce or l1");
    }

    public Tensor Loss(Tensor student, Tensor teacher) => Kind switch
    {
        "kl" => F.KdLoss(student, teacher, Temperature),
        "soft-ce" => F.SoftTargetCrossEntropy(student, teacher, Temperature),
        _ => F.L1Loss(student, teacher),
    };

    public string Describe() => Kind == "kl" ? $"KL at T={Temperature} (x T^2)" : Kind;
}
