using VolunteerCloud.Host;

// vchost [--Volunteer:Key value ...]        run the volunteer daemon
// vchost leave [--in 60s] [--api URL]       tell the local daemon its owner reclaims the machine
if (args.Length > 0 && args[0] == "leave")
{
    return await LeaveCommand.RunAsync(args[1..]).ConfigureAwait(false);
}

if (args.Length > 0 && args[0] is "--help" or "-h" or "-?" or "help")
{
    await Console.Out.WriteLineAsync("""
        vchost: the VolunteerCloud volunteer daemon. Lends a capped share of this machine to a cluster that keeps
        Docker apps running while volunteers come and go. Runs as root beside a Docker Engine.

        Usage:
          vchost [--Volunteer:Setting value ...]   run the daemon (settings also from appsettings.json and VC_Volunteer__* variables)
          vchost leave [--in 60s] [--api URL]      tell the local daemon the owner takes the machine back
          vchost --version                         print the version

        Settings most volunteers give (every one: docs/volunteer.md):
          --Volunteer:Seeds:0 <ip>:7946            a volunteer already in the cluster (none: start a new cluster)
          --Volunteer:CpuShare 0.25                the share of this machine's CPUs apps may use (default 0.5)
          --Volunteer:MemoryMegabytes 2048         the memory apps may use (default 1024)
          --Volunteer:Keys:0 <base64 32 bytes>     the cluster's key: gossip encrypted and authenticated
          --Volunteer:DataDirectory /var/lib/vchost  what the daemon keeps (admin token, desired state, peers)
          --Volunteer:DockerEndpoint unix:///var/run/docker.sock

        As a container: deploy/docker/Dockerfile. Apps are deployed with vc (vc --help).
        """).ConfigureAwait(false);
    return 0;
}

if (args.Length > 0 && args[0] == "--version")
{
    await Console.Out.WriteLineAsync("vchost " + (typeof(VolunteerHost).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false) is [System.Reflection.AssemblyInformationalVersionAttribute v, ..] ? v.InformationalVersion : "unknown")).ConfigureAwait(false);
    return 0;
}

try
{
    await VolunteerHost.Build(args).RunAsync().ConfigureAwait(false);
    return 0;
}
catch (ArgumentException e) when (e.Message.StartsWith("Invalid volunteer configuration", StringComparison.Ordinal))
{
    await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
    return 2;
}
catch (InvalidOperationException e) when (e.Message.StartsWith("Docker Engine does not answer", StringComparison.Ordinal))
{
    await Console.Error.WriteLineAsync("vchost: " + e.Message).ConfigureAwait(false);
    return 3;
}
