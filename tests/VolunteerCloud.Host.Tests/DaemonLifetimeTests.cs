using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace VolunteerCloud.Host.Tests;

public sealed class DaemonLifetimeTests
{
    [Fact]
    public async Task The_daemon_starts_reports_itself_and_stops_on_request()
    {
        var logs = new LogCollector();
        var builder = VolunteerHost.CreateBuilder([]);
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        using var host = builder.Build();

        await host.StartAsync();
        Assert.Contains(logs.Messages, m => m.StartsWith("vchost ", StringComparison.Ordinal) && m.Contains("started", StringComparison.Ordinal));
        Assert.Same(TimeProvider.System, host.Services.GetRequiredService<TimeProvider>());

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await host.StopAsync(timeout.Token);
        Assert.Contains("vchost stopping", logs.Messages);
    }

    private sealed class LogCollector : ILoggerProvider, ILogger
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_messages)
            {
                _messages.Add(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }
}
