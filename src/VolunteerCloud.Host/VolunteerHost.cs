using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
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
        builder.Services.AddVolunteerCloud(vc => vc.UseSwimMembership(swim => builder.Configuration.GetSection("Swim").Bind(swim)));
        builder.Services.AddSingleton<NodeRuntime>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeRuntime>());
        builder.Services.AddHttpClient("peers", client => client.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddOpenApi();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.LeaveDrainTimeout + options.StopGrace + TimeSpan.FromSeconds(15));
        builder.Logging.AddSimpleConsole(console => { console.SingleLine = true; console.TimestampFormat = "HH:mm:ss.fff "; });
        builder.WebHost.UseUrls($"http://{(options.BindAddress == "0.0.0.0" ? "*" : options.BindAddress)}:{options.ApiPort}");
        configure?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapOpenApi();
        HttpApi.Map(app);
        return app;
    }
}
