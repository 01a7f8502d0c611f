using Xunit;

namespace NoiseKD.Tests.Cli;

/// <summary>Asked-for help and the version go to stdout with exit 0; a mistyped verb, option or value is one line on stderr, exit 2.</summary>
[Collection(nameof(ConsoleCollection))]
public class HelpCliTests
{
    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public void HelpGoesToStdout(string flag)
    {
        var (code, output, error) = CliRunner.Run(flag);
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains("quickstart", output);
        Assert.Contains("distill", output);
    }

    [Theory]
    [InlineData("help", "train")]
    [InlineData("train", "--help")]
    [InlineData("train", "-h")]
    public void VerbHelpGoesToStdout(string first, string second)
    {
        var (code, output, error) = CliRunner.Run(first, second);
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains("--arch", output);
        Assert.Contains("--epochs", output);
        Assert.DoesNotContain("--model ", output); // the old spelling is accepted, not advertised
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("version")]
    public void VersionNamesTheCommit(string flag)
    {
        var (code, output, _) = CliRunner.Run(flag);
        Assert.Equal(0, code);
        Assert.Equal($"noisekd {NoiseKD.Training.RunConfig.Version.Split('+')[0]} (commit {NoiseKD.Training.RunConfig.Commit})", output.Trim());
    }

    public static TheoryData<string[], string> Typos => new()
    {
        { ["trian", "--arch", "lenet5"], "unknown verb 'trian'; did you mean train?; see noisekd --help" },
        { ["train", "--arch", "lenet5", "--out", "/tmp/x", "--epoch", "2"], "unknown option --epoch; did you mean --epochs?; see noisekd train --help" },
        { ["distill", "--teacher", "t", "--student-arch", "s", "--out", "o", "--techer-bn", "running"], "unknown option --techer-bn; did you mean --teacher-bn?; see noisekd distill --help" },
        { ["train", "--arch", "lenet5", "--out", "/tmp/x", "--no-such-option"], "unknown option --no-such-option; see noisekd train --help" },
        { ["train", "--arch", "lenet5", "--out", "/tmp/x", "--epochs", "two"], "--epochs 'two' is not a whole number; see noisekd train --help" },
        { ["train", "--arch", "lenet5", "--out", "/tmp/x", "--lr", "fast"], "--lr 'fast' is not a number (e.g. 0.25); see noisekd train --help" },
        { ["train", "--arch", "lenet5"], "train needs --out; see noisekd train --help" },
        { ["frobnicate"], "unknown verb 'frobnicate'; see noisekd --help" },
    };

    [Theory]
    [MemberData(nameof(Typos))]
    public void MistakesAreOneLineWithTheNearestName(string[] args, string expected)
    {
        var (code, output, error) = CliRunner.Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal("noisekd: error: " + expected, error.Trim());
    }
}
