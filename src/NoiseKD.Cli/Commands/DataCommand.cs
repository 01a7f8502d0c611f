using CommandLine;
using NoiseKD.Data;

namespace NoiseKD.Cli.Commands;

[Verb("data", HelpText = "Datasets: 'data list' shows which are present and where; 'data fetch cifar10' downloads and installs CIFAR-10.")]
public sealed class DataCommand : CommonOptions, ICommand
{
    [Value(0, MetaName = "action", Required = true, HelpText = "list or fetch.")]
    public string Action { get; set; } = "";

    [Value(1, MetaName = "dataset", HelpText = "The dataset to fetch (cifar10).")]
    public string? Name { get; set; }

    public int Run()
    {
        switch (Action.ToLowerInvariant())
        {
            case "list":
                if (Name is not null) throw new ArgumentException("'data list' takes no dataset name");
                List();
                return 0;
            case "fetch":
                if (Name?.ToLowerInvariant() != Cifar10Fetch.DatasetName)
                    throw new ArgumentException($"'data fetch' knows cifar10 only (got '{Name}'); for the others see 'noisekd data list'");
                Cifar10Fetch.Run(DataRoot ?? NoiseKD.Data.DataRoot.Default, Console.Error.WriteLine);
                return 0;
            default:
                throw new ArgumentException($"'data {Action}' is not an action; use 'data list' or 'data fetch cifar10'");
        }
    }

    void List()
    {
        Console.WriteLine($"data root: {DataRoot ?? NoiseKD.Data.DataRoot.Default}{(DataRoot is null ? " (per-user default; --data-root or NOISEKD_DATA_ROOT change it)" : "")}");
        foreach (string name in DatasetCatalog.Known)
            Console.WriteLine(DatasetCatalog.Locate(name, DataRoot) is { } where
                ? $"  {name,-14} present   {where}"
                : $"  {name,-14} absent    get it: {DatasetCatalog.HowToGet(name)}");
    }
}
