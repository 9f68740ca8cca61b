using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace VolunteerCloud.Host;

/// <summary>
/// Builds the volunteer daemon's generic host. For now the daemon only starts, reports itself, and stops
/// cleanly on SIGTERM or Ctrl+C; the node runtime (UDP membership, HTTP API, Docker Engine) comes next.
/// </summary>
internal static class VolunteerHost
{
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(args);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<DaemonLifetime>();
        return builder;
    }
}

/// <summary>Reports the daemon's start and stop.</summary>
internal sealed partial class DaemonLifetime(ILogger<DaemonLifetime> logger, TimeProvider clock, IHostEnvironment environment) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogStarted(logger, typeof(DaemonLifetime).Assembly.GetName().Version?.ToString() ?? "unknown", environment.EnvironmentName, clock.GetUtcNow());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        LogStopping(logger);
        return Task.CompletedTask;
    }

    [LoggerMessage(1, LogLevel.Information, "vchost {Version} started ({Environment}) at {StartedAt:O}")]
    private static partial void LogStarted(ILogger logger, string version, string environment, DateTimeOffset startedAt);

    [LoggerMessage(2, LogLevel.Information, "vchost stopping")]
    private static partial void LogStopping(ILogger logger);
}
