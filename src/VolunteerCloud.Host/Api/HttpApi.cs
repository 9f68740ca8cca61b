using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VolunteerCloud.Api;
using VolunteerCloud.Apps;
using VolunteerCloud.Compose;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Host.Runtime;
using VolunteerCloud.Membership;

namespace VolunteerCloud.Host.Api;

/// <summary>
/// The node's HTTP API. Every node serves all of it — there is no special node: a deploy accepted here is written
/// to the replicated desired state and reaches every other node by gossip.
/// </summary>
internal static class HttpApi
{
    private const int MaxBodyBytes = 1 << 20;
    private const int MaxReplicas = 1_000;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", (NodeRuntime runtime) => runtime.Ready.IsCompletedSuccessfully ? Results.Text("ok\n") : Results.Text("starting\n", statusCode: 503));
        app.MapGet("/metrics", async (NodeRuntime runtime, CancellationToken ct) => Results.Text(await Metrics.RenderAsync(runtime, ct), "text/plain; version=0.0.4"));

        var v1 = app.MapGroup("/v1");
        // Reads need read access (anonymous by default); every write needs an admin token.
        v1.AddEndpointFilter(ApiTokens.Check);
        v1.MapGet("/node", async (NodeRuntime runtime, CancellationToken ct) => Results.Ok(await runtime.InvokeAsync((node, context) => new NodeInfo(
            node.Self.Value,
            runtime.Advertised?.ToString() ?? "",
            runtime.ApiPort,
            runtime.Leaving,
            context.Containers.Capacity.Cpus,
            context.Containers.Capacity.MemoryBytes,
            context.Containers.Allocated.Cpus,
            context.Containers.Allocated.MemoryBytes,
            context.Containers.Count,
            [.. node.Stewarded.Order(StringComparer.Ordinal)],
            node.Membership.View.Members.Count(m => m.State is MemberState.Alive or MemberState.Suspect),
            node.ClusterId), ct))).WithName("GetNode");

        v1.MapGet("/members", async (NodeRuntime runtime, CancellationToken ct) => Results.Ok(await runtime.InvokeAsync((node, _) =>
            node.Membership.View.Members.OrderBy(m => m.Id.Value).Select(ToInfo).ToList(), ct))).WithName("ListMembers");

        v1.MapGet("/apps", async (NodeRuntime runtime, CancellationToken ct) => await runtime.InvokeAsync((node, _) =>
            runtime.KnowsDesiredState(node)
                ? Results.Ok(node.Apps.OrderBy(a => a.Name, StringComparer.Ordinal).Select(a => Describe(node, a)).ToList())
                : NotSyncedYet(node), ct)).WithName("ListApps");

        v1.MapGet("/apps/{name}", async (string name, NodeRuntime runtime, CancellationToken ct) => await runtime.InvokeAsync((node, _) =>
            node.Apps.FirstOrDefault(a => a.Name == name) is { } spec ? Results.Ok(Describe(node, spec)) : Unknown(runtime, node, name), ct)).WithName("GetApp");

        v1.MapPost("/apps", async (HttpRequest request, NodeRuntime runtime, CancellationToken ct) =>
        {
            if (request.ContentLength > MaxBodyBytes)
            {
                return Results.BadRequest(new ApiError($"The spec is larger than {MaxBodyBytes} bytes."));
            }

            string text;
            using (var reader = new StreamReader(request.Body, Encoding.UTF8))
            {
                var buffer = new char[MaxBodyBytes + 1];
                var read = await reader.ReadBlockAsync(buffer, ct);
                if (read > MaxBodyBytes)
                {
                    return Results.BadRequest(new ApiError($"The spec is larger than {MaxBodyBytes} bytes."));
                }

                text = new string(buffer, 0, read);
            }

            IReadOnlyList<AppSpec> specs;
            try
            {
                // A Compose file, in YAML or in its JSON form (JSON is YAML): one parser, the same checks either way.
                specs = ComposeFile.Parse(new StringReader(text), "request body");
            }
            catch (ComposeException e)
            {
                return Results.BadRequest(new ApiError(e.Message));
            }

            if (specs.Count == 0)
            {
                return Results.BadRequest(new ApiError("The Compose file has no services: add one under 'services:'."));
            }

            await runtime.InvokeAsync((node, context) =>
            {
                foreach (var spec in specs)
                {
                    node.Deploy(context, spec);
                }

                return true;
            }, ct);
            return Results.Accepted("/v1/apps", new ChangeResult([.. specs.Select(s => s.Name)], $"Deployed {specs.Count} app(s); replicas start as the stewards place them."));
        }).WithName("Deploy").WithDescription("Deploys the services of a Compose file (YAML, or its JSON form) sent as the body.");

        v1.MapPost("/apps/{name}/scale", async (string name, int replicas, NodeRuntime runtime, CancellationToken ct) =>
        {
            if (replicas is < 0 or > MaxReplicas)
            {
                return Results.BadRequest(new ApiError($"replicas must be between 0 and {MaxReplicas}."));
            }

            return await runtime.InvokeAsync((node, context) =>
            {
                if (!node.Apps.Any(a => a.Name == name))
                {
                    return Unknown(runtime, node, name);
                }

                node.Scale(context, name, replicas);
                return Results.Accepted($"/v1/apps/{name}", new ChangeResult([name], $"Scaled {name} to {replicas}."));
            }, ct);
        }).WithName("Scale");

        v1.MapDelete("/apps/{name}", async (string name, NodeRuntime runtime, CancellationToken ct) =>
        {
            return await runtime.InvokeAsync((node, context) =>
            {
                if (!node.Apps.Any(a => a.Name == name))
                {
                    return Unknown(runtime, node, name);
                }

                node.Remove(context, name);
                return Results.Accepted("/v1/apps", new ChangeResult([name], $"Removing {name}; its replicas stop everywhere."));
            }, ct);
        }).WithName("Remove");

        v1.MapGet("/apps/{name}/logs", async (string name, int? tail, HttpRequest request, NodeRuntime runtime, IHttpClientFactory http, CancellationToken ct) =>
        {
            var lines = Math.Clamp(tail ?? 100, 1, 10_000);
            var (where, unknown) = await runtime.InvokeAsync((node, _) => node.Apps.FirstOrDefault(a => a.Name == name) is { } spec
                ? (Describe(node, spec).Placement.Where(p => p.Running).ToList(), null)
                : ((List<ReplicaInfo>?)null, Unknown(runtime, node, name)), ct);
            if (where is null)
            {
                return unknown!;
            }

            var text = new StringBuilder();
            foreach (var replica in where)
            {
                text.Append("==> ").Append(replica.Replica).Append(" on node ").Append(replica.Node.ToString(CultureInfo.InvariantCulture)).Append(" <==\n");
                if (replica.Node == runtime.Self.Value)
                {
                    text.Append(await runtime.Containers.GetLogsAsync(replica.Replica, lines, ct) ?? "(gone)\n");
                }
                else if (replica.Address is { } address && IPEndPoint.TryParse(address, out var endpoint))
                {
                    try
                    {
                        var client = http.CreateClient("peers");
                        client.DefaultRequestHeaders.Authorization = System.Net.Http.Headers.AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var auth) ? auth : null;
                        var apiPort = await runtime.InvokeAsync((node, _) => node.Membership.View.Members.FirstOrDefault(m => m.Id.Value == replica.Node).Metadata.ApiPort, ct);
                        var url = $"http://{new IPEndPoint(endpoint.Address, apiPort)}/v1/local/logs?replica={Uri.EscapeDataString(replica.Replica)}&tail={lines.ToString(CultureInfo.InvariantCulture)}";
                        text.Append(await client.GetStringAsync(url, ct));
                    }
                    catch (HttpRequestException e)
                    {
                        text.Append("(node unreachable: ").Append(e.Message).Append(")\n");
                    }
                }
            }

            return Results.Text(text.ToString());
        }).WithName("Logs");

        v1.MapGet("/local/logs", async (string replica, int? tail, NodeRuntime runtime, CancellationToken ct) =>
            await runtime.Containers.GetLogsAsync(replica, Math.Clamp(tail ?? 100, 1, 10_000), ct) is { } logs ? Results.Text(logs) : Results.NotFound(new ApiError($"No replica {replica} runs on this node.")))
            .WithName("LocalLogs");

        // Keyring rotation without downtime (as memberlist's): install the new key on every node, make it primary on
        // every node, then remove the old one.
        v1.MapGet("/keyring", (NodeRuntime runtime) => Results.Ok(new KeyringInfo([.. runtime.Transport.Keyring.Ids.Select(Hex)], runtime.Transport.Keyring.Ids.Count > 0 ? Hex(runtime.Transport.Keyring.Ids[0]) : null)))
            .WithName("ListKeys");
        v1.MapPost("/keyring", (KeyRequest request, NodeRuntime runtime) =>
        {
            var bytes = new byte[64];
            if (request.Key is null || !Convert.TryFromBase64String(request.Key, bytes, out var length) || length is not (16 or 24 or 32))
            {
                return Results.BadRequest(new ApiError("key must be base64 of 16, 24 or 32 bytes (openssl rand -base64 32)."));
            }

            try
            {
                var id = runtime.Transport.Keyring.Install(bytes[..length]);
                return Results.Ok(new ChangeResult([Hex(id)], $"Installed key {Hex(id)}; make it primary on every node with POST /v1/keyring/{Hex(id)}/use."));
            }
            catch (ArgumentException e)
            {
                return Results.BadRequest(new ApiError(e.Message));
            }
        }).WithName("InstallKey");
        v1.MapPost("/keyring/{id}/use", (string id, NodeRuntime runtime) =>
            TryParseKeyId(id, out var key) && runtime.Transport.Keyring.Use(key)
                ? Results.Ok(new ChangeResult([id], $"Key {id} is primary on this node."))
                : Results.NotFound(new ApiError($"No key {id} is installed; GET /v1/keyring lists them.")))
            .WithName("UseKey");
        v1.MapDelete("/keyring/{id}", (string id, NodeRuntime runtime) =>
        {
            try
            {
                return TryParseKeyId(id, out var key) && runtime.Transport.Keyring.Remove(key)
                    ? Results.Ok(new ChangeResult([id], $"Removed key {id}."))
                    : Results.NotFound(new ApiError($"No key {id} is installed; GET /v1/keyring lists them."));
            }
            catch (InvalidOperationException e)
            {
                return Results.BadRequest(new ApiError(e.Message));
            }
        }).WithName("RemoveKey");

        v1.MapPost("/node/leave", (string? @in, NodeRuntime runtime, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime) =>
        {
            var delay = TimeSpan.Zero;
            if (@in is not null && !TryParseDuration(@in, out delay))
            {
                return Results.BadRequest(new ApiError($"'{@in}' is not a duration: write e.g. 60s, 5m or 1h."));
            }

            _ = Task.Run(async () =>
            {
                await runtime.DrainAsync(lifetime.ApplicationStopping, delay);
                lifetime.StopApplication();
            });
            return Results.Accepted("/v1/node", new ChangeResult([], delay > TimeSpan.Zero ? $"Leaving in {delay}: replicas move elsewhere first." : "Leaving: replicas move elsewhere first."));
        }).WithName("Leave");
    }

    /// <summary>Parses 90, 90s, 5m, 1h, 250ms, 1h30m (the Compose notation, <see cref="Units.TryParseDuration"/>).</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration) => Units.TryParseDuration(text, allowDays: false, out duration);

    private static string Hex(uint id) => id.ToString("x8", CultureInfo.InvariantCulture);

    private static bool TryParseKeyId(string text, out uint id) => uint.TryParse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out id);

    /// <summary>
    /// An app this node does not hold: 404 when the node knows the desired state, otherwise 503 with Retry-After — a
    /// restarted node starts empty and learns the apps by anti-entropy within seconds, so "no such app" would be wrong.
    /// </summary>
    private static IResult Unknown(NodeRuntime runtime, ControlPlaneNode node, string name) =>
        runtime.KnowsDesiredState(node) ? Results.NotFound(new ApiError($"No app is called '{name}'. 'vc ps' lists the apps.")) : NotSyncedYet(node);

    private static RetryLater NotSyncedYet(ControlPlaneNode node) => new(
        node.ExchangeInterval,
        new ApiError("This node (re)started moments ago and has not yet compared its desired state with another node's, so it cannot tell which apps exist; ask again in a few seconds, or ask another node."));

    /// <summary>503 Service Unavailable with a Retry-After header (whole seconds) and an error body.</summary>
    private sealed class RetryLater(TimeSpan after, ApiError error) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Results.Json(error, statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(httpContext);
        }
    }

    private static MemberInfo ToInfo(Member m) => new(m.Id.Value, m.State.ToString().ToLowerInvariant(), m.Incarnation, m.Metadata.Address, m.Metadata.ApiPort, m.Metadata.Region, m.Metadata.CpuMillicores, m.Metadata.MemoryMegabytes);

    private static AppInfo Describe(ControlPlaneNode node, AppSpec spec)
    {
        var view = node.Membership.View;
        var placement = new List<ReplicaInfo>();
        foreach (var (host, report) in node.Reports)
        {
            var member = view.Members.FirstOrDefault(m => m.Id == host);
            if (member.State is not (MemberState.Alive or MemberState.Suspect) && host != node.Self)
            {
                continue;
            }

            foreach (var record in report.Replicas)
            {
                if (record.Replica.App == spec.Name)
                {
                    placement.Add(new ReplicaInfo(record.Replica.ToString(), record.Replica.Slot, host.Value, member.Metadata.Address, record.Running));
                }
            }
        }

        placement.Sort((a, b) => a.Slot != b.Slot ? a.Slot.CompareTo(b.Slot) : a.Node.CompareTo(b.Node));
        return new AppInfo(spec.Name, spec.Image, spec.Replicas, placement.Count(p => p.Running), spec.Limits.Cpus, spec.Limits.MemoryBytes,
            [.. spec.Ports.Select(p => p.HostPort == 0 ? $"{p.ContainerPort}/{p.Protocol}" : $"{p.HostPort}:{p.ContainerPort}/{p.Protocol}")], placement);
    }
}
