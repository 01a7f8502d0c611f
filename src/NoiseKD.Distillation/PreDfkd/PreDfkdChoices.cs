namespace NoiseKD.Distillation.PreDfkd;

/// <summary>The command-line spellings of the PRE-DFKD choices; a wrong one is a user error naming the valid ones.</summary>
public static class PreDfkdChoices
{
    public static AdversarialTerm Adversarial(string text) => Parse(text, "--adversarial", ("loss", AdversarialTerm.Loss), ("js", AdversarialTerm.Js));

    public static ReplayScheme Scheme(string text) => Parse(text, "--replay-scheme", ("engine", ReplayScheme.Engine), ("paper", ReplayScheme.Paper));

    public static FeatureLayer Features(string text) =>
        Parse(text, "--activation-features", ("classifier", FeatureLayer.Classifier), ("first-linear", FeatureLayer.FirstLinear));

    static T Parse<T>(string text, string option, params (string Name, T Value)[] choices)
    {
        foreach (var (name, value) in choices)
            if (string.Equals(text, name, StringComparison.OrdinalIgnoreCase)) return value;
        throw new ArgumentException($"{option} '{text}' must be {string.Join(" or ", choices.Select(c => c.Name))}");
    }
}
