using System.CommandLine;
using VolunteerCloud.Simulator.Cli;

var root = new RootCommand("vcsim: the VolunteerCloud discrete-event simulator and experiment runner.");
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(MembershipCommands.Create());
root.Subcommands.Add(PlacementCommands.Create());
root.Subcommands.Add(AppsCommands.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ChaosCommand.Create());
foreach (var command in ChurnCommands.Create())
{
    root.Subcommands.Add(command);
}

var parsed = root.Parse(args);
return VolunteerCloud.CommandLine.CommandLineErrors.Report(parsed, Console.Error, "vcsim") ?? parsed.Invoke();
