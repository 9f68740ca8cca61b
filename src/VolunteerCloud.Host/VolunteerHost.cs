using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VolunteerCloud.Host.Api;
using VolunteerCloud.Host.Runtime;

namespace VolunteerCloud.Host;

/// <summary>
/// Builds the volunteer daemon: one <see cref="NodeRuntime"/> (the Sdk's control-plane node on UDP/TCP gossip and
/// Docker Engine) and the HTTP API on Kestrel. Configuration: appsettings.json, VC_-prefixed environment variables,
/// then the command line; membership and placement are chosen through the Sdk's DI (<c>AddVolunteerCloud</c>).
/// </summary>
internal static class VolunteerHost
{
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddEnvironmentVariables("VC_");
        builder.Configuration.AddCommandLine(args);
        var options = builder.Configuration.GetSection(VolunteerOptions.Section).Get<VolunteerOptions>() ?? new VolunteerOptions();
        options.Validate();

        builder.Services.Configure<VolunteerOptions>(builder.Configuration.GetSection(VolunteerOptions.Section));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddVolunteerCloud(vc =>
        {
            vc.UseMembership(options.Membership, swim => builder.Configuration.GetSection("Swim").Bind(swim), heartbeat => builder.Configuration.GetSection("Heartbeat").Bind(heartbeat));
            vc.UsePlacement(options.Placement);
            if (options.ChurnHandler == StrategyNames.Proactive)
            {
                vc.UseProactiveChurnHandler(options.RescheduleGrace, options.MigrateBelowResidualHours);
            }
            else
            {
                vc.UseChurnHandler(options.ChurnHandler, options.RescheduleGrace);
            }
        });
        builder.Services.AddSingleton<NodeRuntime>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeRuntime>());
        builder.Services.AddHttpClient("peers", client => client.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddOpenApi();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.LeaveDrainTimeout + options.StopGrace + TimeSpan.FromSeconds(15));
        builder.Logging.AddSimpleConsole(console => { console.SingleLine = true; console.TimestampFormat = "HH:mm:ss.fff "; });
        builder.Services.AddSingleton(new ApiTokens(AdminTokens(options), options.ReadTokens, options.AnonymousRead));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Put a limit on everything: connections, headers, bodies (a deploy is a Compose file, 1 MiB at most).
            kestrel.Limits.MaxConcurrentConnections = 256;
            kestrel.Limits.MaxRequestBodySize = 1 << 20;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 << 10;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            var address = options.BindAddress == "0.0.0.0" ? System.Net.IPAddress.Any : System.Net.IPAddress.Parse(options.BindAddress);
            kestrel.Listen(address, options.ApiPort, listen =>
            {
                if (options.TlsCertificate is { } certificate)
                {
                    listen.UseHttps(certificate, options.TlsCertificatePassword);
                }
            });
        });
        configure?.Invoke(builder.Services);

        var app = builder.Build();
        if (options.AdminTokens.Count == 0)
        {
            app.Logger.LogInformation("API admin token: {Path} (vc --token \"$(cat {Path})\")", new DataDirectory(options.DataDirectory).AdminTokenFile, new DataDirectory(options.DataDirectory).AdminTokenFile);
        }

        app.MapOpenApi();
        HttpApi.Map(app);
        return app;
    }

    /// <summary>The configured admin tokens, or the one this daemon made at its first start (kept, mode 0600, in the data directory).</summary>
    private static List<string> AdminTokens(VolunteerOptions options) =>
        options.AdminTokens.Count > 0 ? options.AdminTokens : [new DataDirectory(options.DataDirectory).AdminToken()];
}
