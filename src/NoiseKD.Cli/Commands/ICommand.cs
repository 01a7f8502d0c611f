namespace NoiseKD.Cli.Commands;

/// <summary>One verb of the command line: parsed options plus what to do with them.</summary>
public interface ICommand
{
    /// <summary>Runs the verb and returns the process exit code.</summary>
    int Run();
}
