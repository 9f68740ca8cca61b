using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using VolunteerCloud.Api;

namespace VolunteerCloud.Cli;

/// <summary>
/// <c>vc</c>: the command line for a VolunteerCloud cluster. It talks to any node's HTTP API (there is no special
/// node): <c>--node</c>, or VC_NODE, or http://127.0.0.1:7947.
/// </summary>
internal static class VcCommands
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var node = new Option<string?>("--node") { Description = "A node's API: any node of the cluster. Default: the VC_NODE environment variable, else http://127.0.0.1:7947.", Recursive = true };
        var token = new Option<string?>("--token") { Description = "An API token (the admin token for changes). Default: the VC_TOKEN environment variable.", Recursive = true };
        // Read here, not as the options' defaults: help would print a default's value, and a token is a secret.
        string Node(ParseResult parse) => parse.GetValue(node) ?? Environment.GetEnvironmentVariable("VC_NODE") ?? "http://127.0.0.1:7947";
        string? Token(ParseResult parse) => parse.GetValue(token) ?? Environment.GetEnvironmentVariable("VC_TOKEN");
        var root = new RootCommand("vc: deploy and watch apps on a VolunteerCloud cluster through any node.");
        root.Options.Add(node);
        root.Options.Add(token);

        var file = new Option<FileInfo>("--file", "-f") { Description = "The Compose file (YAML or JSON).", Required = true };
        var deploy = new Command("deploy", "Deploy the services of a Compose file.") { file };
        deploy.SetAction((parse, ct) => Call(Node(parse), Token(parse), output, error, async client =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                await error.WriteLineAsync($"vc deploy: {path.FullName} does not exist.");
                return 2;
            }

            using var content = new StringContent(await File.ReadAllTextAsync(path.FullName, ct), Encoding.UTF8, "application/yaml");
            using var response = await client.PostAsync(new Uri("/v1/apps", UriKind.Relative), content, ct);
            return await Report(response, output, error, ct);
        }));

        var ps = new Command("ps", "List apps and where their replicas run.");
        ps.SetAction((parse, ct) => Call(Node(parse), Token(parse), output, error, async client =>
        {
            using var response = await client.GetAsync(new Uri("/v1/apps", UriKind.Relative), ct);
            if (!response.IsSuccessStatusCode)
            {
                return await Report(response, output, error, ct); // e.g. 401 without a token, 503 from a node still catching up
            }

            var apps = await response.Content.ReadFromJsonAsync<List<AppInfo>>(Json, ct) ?? [];
            await output.WriteLineAsync($"{"APP",-20} {"IMAGE",-36} {"REPLICAS",-9} {"REPLICA",-32} {"NODE",-12} {"ADDRESS",-22} STATE");
            foreach (var app in apps)
            {
                var first = true;
                foreach (var replica in app.Placement.DefaultIfEmpty())
                {
                    var head = first ? $"{app.Name,-20} {Cut(app.Image, 36),-36} {$"{app.Running}/{app.Replicas}",-9}" : $"{"",-20} {"",-36} {"",-9}";
                    await output.WriteLineAsync(replica is null ? head : $"{head} {replica.Replica,-32} {replica.Node,-12} {replica.Address,-22} {(replica.Running ? "running" : "starting")}");
                    first = false;
                }
            }

            return 0;
        }));

        var scaleArg = new Argument<string[]>("app=replicas") { Description = "For example web=5.", Arity = ArgumentArity.OneOrMore };
        var scale = new Command("scale", "Set apps' replica counts.") { scaleArg };
        scale.SetAction((parse, ct) => Call(Node(parse), Token(parse), output, error, async client =>
        {
            foreach (var pair in parse.GetValue(scaleArg)!)
            {
                var parts = pair.Split('=');
                if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var replicas))
                {
                    await error.WriteLineAsync($"vc scale: '{pair}' is not app=replicas (e.g. web=5).");
                    return 2;
                }

                using var response = await client.PostAsync(new Uri($"/v1/apps/{Uri.EscapeDataString(parts[0])}/scale?replicas={replicas}", UriKind.Relative), null, ct);
                if (await Report(response, output, error, ct) != 0)
                {
                    return 1;
                }
            }

            return 0;
        }));

        var appArg = new Argument<string>("app") { Description = "The app's name." };
        var rm = new Command("rm", "Remove an app: its replicas stop everywhere.") { appArg };
        rm.SetAction((parse, ct) => Call(Node(parse), Token(parse), output, error, async client =>
        {
            using var response = await client.DeleteAsync(new Uri($"/v1/apps/{Uri.EscapeDataString(parse.GetValue(appArg)!)}", UriKind.Relative), ct);
            return await Report(response, output, error, ct);
        }));

        var members = new Command("members", "List the members the node sees.");
        members.SetAction((parse, ct) => Call(Node(parse), Token(parse), output, error, async client =>
        {
            using var response = await client.GetAsync(new Uri("/v1/members", UriKind.Relative), ct);
            if (!response.IsSuccessStatusCode)
            {
                return await Report(response, output, error, ct);
            }

            var list = await response.Content.ReadFromJsonAsync<List<MemberInfo>>(Json, ct) ?? [];
            await output.WriteLineAsync($"{"NODE",-12} {"STATE",-8} {"ADDRESS",-22} {"API",-6} {"CPUS",-6} MEMORY");
            foreach (var m in list)
            {
                await output.WriteLineAsync($"{m.Id,-12} {m.State,-8} {m.Address,-22} {m.ApiPort,-6} {(m.CpuMillicores / 1000.0).ToString("0.##", CultureInfo.InvariantCulture),-6} {m.MemoryMegabytes} MiB");
            }

            return 0;
        }));

        var self = new Command("node", "Show the node: its cluster, caps, what it runs and stewards.");
        self.SetAction((parse, ct) => Call(Node(parse), Token(parse), output, error, async client =>
        {
            using var response = await client.GetAsync(new Uri("/v1/node", UriKind.Relative), ct);
            if (!response.IsSuccessStatusCode)
            {
                return await Report(response, output, error, ct);
            }

            var n = (await response.Content.ReadFromJsonAsync<NodeInfo>(Json, ct))!;
            string Cpus(double cpus) => cpus.ToString("0.##", CultureInfo.InvariantCulture);
            await output.WriteLineAsync($"node        {n.Id} at {n.Address} (API port {n.ApiPort}){(n.Leaving ? ", leaving" : "")}");
            await output.WriteLineAsync($"cluster     {n.Cluster ?? "(not named yet)"}, {n.Members} live member(s) seen");
            await output.WriteLineAsync($"containers  {n.Containers}, using {Cpus(n.AllocatedCpus)} of {Cpus(n.CapacityCpus)} CPUs and {n.AllocatedMemoryBytes >> 20} of {n.CapacityMemoryBytes >> 20} MiB");
            await output.WriteLineAsync($"stewards    {(n.Stewarded.Count == 0 ? "(no app)" : string.Join(", ", n.Stewarded))}");
            return 0;
        }));

        var tail = new Option<int>("--tail") { Description = "Lines per replica.", DefaultValueFactory = _ => 100 };
        var logsApp = new Argument<string>("app") { Description = "The app's name." };
        var logs = new Command("logs", "Show an app's container logs, fetched through the nodes that run it.") { logsApp, tail };
        logs.SetAction((parse, ct) => Call(Node(parse), Token(parse), output, error, async client =>
        {
            using var response = await client.GetAsync(new Uri($"/v1/apps/{Uri.EscapeDataString(parse.GetValue(logsApp)!)}/logs?tail={parse.GetValue(tail)}", UriKind.Relative), ct);
            if (!response.IsSuccessStatusCode)
            {
                return await Report(response, output, error, ct);
            }

            await output.WriteAsync(await response.Content.ReadAsStringAsync(ct));
            return 0;
        }));

        foreach (var command in new[] { deploy, ps, scale, rm, members, self, logs })
        {
            root.Subcommands.Add(command);
        }

        var parsed = root.Parse(args);
        if (VolunteerCloud.CommandLine.CommandLineErrors.Report(parsed, error, "vc") is { } code)
        {
            return code;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }).ConfigureAwait(false);
    }

    private static async Task<int> Call(string node, string? token, TextWriter output, TextWriter error, Func<HttpClient, Task<int>> action)
    {
        if (!Uri.TryCreate(node, UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"vc: --node '{node}' is not an http:// address (e.g. http://10.0.0.5:7947).");
            return 2;
        }

        using var client = new HttpClient(new RetryLaterHandler(error) { InnerHandler = new HttpClientHandler() }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (!string.IsNullOrWhiteSpace(token))
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token.Trim());
        }
        try
        {
            return await action(client);
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"vc: no node answers at {baseAddress} ({e.Message}). Is vchost running there? Point --node or VC_NODE at any node.");
            return 1;
        }
        catch (TaskCanceledException)
        {
            await error.WriteLineAsync($"vc: {baseAddress} did not answer in 60 s.");
            return 1;
        }
    }

    private static async Task<int> Report(HttpResponseMessage response, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        string? message = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            message = document.RootElement.TryGetProperty("message", out var m) ? m.GetString()
                : document.RootElement.TryGetProperty("error", out var e) ? e.GetString() : null;
        }
        catch (JsonException)
        {
        }

        if (response.IsSuccessStatusCode)
        {
            await output.WriteLineAsync(message ?? body);
            return 0;
        }

        await error.WriteLineAsync($"vc: {message ?? body} ({(int)response.StatusCode} {response.StatusCode})");
        return response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound ? 2 : 1;
    }

    /// <summary>
    /// Waits out a 503 with Retry-After (a node that restarted moments ago and is still learning the cluster's desired
    /// state) and asks again, for up to 30 s in all; any other answer, or a longer wait, goes back to the caller.
    /// </summary>
    private sealed class RetryLaterHandler(TextWriter error) : DelegatingHandler
    {
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var waited = TimeSpan.Zero;
            while (true)
            {
                var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable || response.Headers.RetryAfter?.Delta is not { } delay || waited + delay > Patience)
                {
                    return response;
                }

                if (waited == TimeSpan.Zero)
                {
                    await error.WriteLineAsync($"vc: {request.RequestUri?.GetLeftPart(UriPartial.Authority)} is catching up with the cluster; asking again (up to {Patience.TotalSeconds:0} s).").ConfigureAwait(false);
                }

                response.Dispose();
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                waited += delay;
            }
        }
    }

    private static string Cut(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";
}
