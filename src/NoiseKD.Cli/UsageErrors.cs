using System.Reflection;
using CommandLine;

namespace NoiseKD.Cli;

/// <summary>
/// A command line the parser rejected, in one sentence: the nearest valid verb or option for a typo ("did you mean
/// --epochs?"), the value and the expected kind for a bad value, and where the full help is. The parser's own
/// report is the whole help text, which buries the one line that matters.
/// </summary>
public static class UsageErrors
{
    public static string Describe(Error error, string[] args, Type[] verbs)
    {
        var verb = args.Length > 0 ? verbs.FirstOrDefault(v => v.GetCustomAttribute<VerbAttribute>()!.Name == args[0]) : null;
        string verbName = verb?.GetCustomAttribute<VerbAttribute>()!.Name ?? "";
        string help = verb is null ? "see noisekd --help" : $"see noisekd {verbName} --help";
        switch (error)
        {
            case BadVerbSelectedError bad:
                return $"unknown verb '{bad.Token}'{Suggestion(bad.Token, verbs.Select(v => v.GetCustomAttribute<VerbAttribute>()!.Name), "")}; {help}";
            case NoVerbSelectedError:
                return $"no verb given; {help}";
            case UnknownOptionError unknown:
                return $"unknown option {Dashed(unknown.Token)}{Suggestion(unknown.Token, Options(verb).Select(o => o.Name), "--")}; {help}";
            case BadFormatConversionError format:
                return $"{Dashed(format.NameInfo.LongName)} '{ValueOf(args, format.NameInfo.LongName)}' is not {Expected(Options(verb).FirstOrDefault(o => o.Name == format.NameInfo.LongName).Type)}; {help}";
            case MissingValueOptionError missingValue:
                return $"{Dashed(missingValue.NameInfo.LongName)} needs a value; {help}";
            case MissingRequiredOptionError required:
                return required.NameInfo.LongName.Length > 0 && Options(verb).Any(o => o.Name == required.NameInfo.LongName)
                    ? $"{verbName} needs {Dashed(required.NameInfo.LongName)}; {help}"
                    : $"{verbName} needs its {required.NameInfo.NameText} argument; {help}";
            case RepeatedOptionError repeated:
                return $"{Dashed(repeated.NameInfo.LongName)} is given more than once; {help}";
            case NamedError named:
                return $"{Dashed(named.NameInfo.LongName)} is not valid here ({error.Tag}); {help}";
            case TokenError token:
                return $"'{token.Token}' is not valid here ({error.Tag}); {help}";
            default:
                return $"the command line is not valid ({error.Tag}); {help}";
        }
    }

    static string Dashed(string name) => "--" + name.TrimStart('-');

    /// <summary>The verb's options: long name and property type (hidden old spellings are accepted but not suggested).</summary>
    static IEnumerable<(string Name, Type Type)> Options(Type? verb) =>
        verb is null ? [] : verb.GetProperties()
            .Select(p => (Property: p, Option: p.GetCustomAttribute<OptionAttribute>()))
            .Where(x => x.Option is { Hidden: false } && x.Option.LongName.Length > 0)
            .Select(x => (x.Option!.LongName, Nullable.GetUnderlyingType(x.Property.PropertyType) ?? x.Property.PropertyType));

    /// <summary>The text given after --NAME (or in --NAME=VALUE).</summary>
    static string ValueOf(string[] args, string name)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--" + name) return i + 1 < args.Length ? args[i + 1] : "";
            if (args[i].StartsWith("--" + name + "=", StringComparison.Ordinal)) return args[i][(name.Length + 3)..];
        }
        return "";
    }

    static string Expected(Type? type) => type switch
    {
        _ when type == typeof(int) => "a whole number",
        _ when type == typeof(ulong) => "a whole number of zero or more",
        _ when type == typeof(float) || type == typeof(double) => "a number (e.g. 0.25)",
        _ when type == typeof(bool) => "a flag (give it without a value)",
        _ => "a valid value",
    };

    /// <summary>"; did you mean --epochs?" when a candidate is within a few edits of <paramref name="given"/>, else nothing.</summary>
    static string Suggestion(string given, IEnumerable<string> candidates, string prefix)
    {
        string token = given.TrimStart('-').ToLowerInvariant();
        var best = candidates.Select(c => (Name: c, Distance: Levenshtein(token, c))).OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault();
        bool close = best.Name is not null && (best.Distance <= Math.Max(2, token.Length / 3) || best.Name.StartsWith(token, StringComparison.Ordinal) && token.Length >= 3);
        return close ? $"; did you mean {prefix}{best.Name}?" : "";
    }

    static int Levenshtein(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
