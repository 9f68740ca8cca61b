using VolunteerCloud.Host;

// vchost [--Volunteer:Key value ...]        run the volunteer daemon
// vchost leave [--in 60s] [--api URL]       tell the local daemon its owner reclaims the machine
if (args.Length > 0 && args[0] == "leave")
{
    return await LeaveCommand.RunAsync(args[1..]).ConfigureAwait(false);
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
