using VolunteerCloud.Cli;

return await VcCommands.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
