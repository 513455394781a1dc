using System.CommandLine;
using FleetTwin.Cli.Commands;

namespace FleetTwin.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("FleetTwin: a digital twin of XenServer/XCP-ng fleets and their dom0 SWIOTLB pools.");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ParseCommand.Create());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(AnalyzeCommand.Create());
        root.Subcommands.Add(BacktestCommand.Create());
        root.Subcommands.Add(PlanCommand.Create());
        root.Subcommands.Add(HostsCommand.Create());
        root.Subcommands.Add(HostCommand.Create());
        root.Subcommands.Add(WatchCommand.Create());
        root.Subcommands.Add(IngestCommand.Create());
        root.Subcommands.Add(SimulateCommand.Create());
        root.Subcommands.Add(CorpusCommand.Create());
        return root.Parse(args).Invoke();
    }
}
