namespace NoiseKD.Tests.Cli;

/// <summary>Runs `noisekd ARGS` in-process through Program.Main and captures its exit code, stdout and stderr.</summary>
public static class CliRunner
{
    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try { return (NoiseKD.Cli.Program.Main(args), output.ToString(), error.ToString()); }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }
}
