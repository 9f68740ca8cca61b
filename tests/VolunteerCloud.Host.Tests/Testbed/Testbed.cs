using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using VolunteerCloud.Api;
using VolunteerCloud.Host.Api;

namespace VolunteerCloud.Host.Tests;

/// <summary>
/// Real volunteer hosts on this machine: network namespaces vc&lt;NET&gt;h1..vc&lt;NET&gt;h4, each with its own address
/// (10.NET.k.2) and its own Docker Engine, and a local registry (10.NET.0.1:5000) holding <see cref="Image"/> built
/// from busybox-static. NET is this run's own (<see cref="Net"/>), so two test runs on one machine do not collide.
/// Brought up once for the "testbed" collection by testbed.sh. Tests skip, saying why, where this is impossible (not
/// root, no dockerd); with VC_REQUIRE_DOCKER=1 (as .ci/run sets) they fail instead, so CI always runs them.
/// </summary>
public sealed class Testbed : IAsyncLifetime
{
    public const int Hosts = 4;
    public string Image => $"{Registry}/vc/busybox:1";

    /// <summary>The testbed's registry.</summary>
    public string Registry => $"10.{Net}.0.1:5000";

    /// <summary>
    /// This testbed's number: the first of 200..249 whose lock (/run/vctb/NET.lock) no other testbed holds, in this
    /// process or another. The lock is held until the testbed is disposed or the process exits, however it exits;
    /// <c>testbed.sh sweep</c> clears testbeds whose lock is free. Two collections run side by side on two testbeds.
    /// </summary>
    public int Net => _lock.Value.Net;

    private readonly Lazy<(int Net, FileStream Lock)> _lock = new(TakeNumber);

    private static (int Net, FileStream Lock) TakeNumber()
    {
        Directory.CreateDirectory("/run/vctb");
        for (var net = 200; net < 250; net++)
        {
            try
            {
                // FileShare.None takes an exclusive flock on Unix (per open file, so also between two testbeds of one
                // process): released by the kernel when the process dies.
                return (net, new FileStream($"/run/vctb/{net}.lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException)
            {
            }
        }

        throw new InvalidOperationException("every testbed number 200..249 is taken (/run/vctb/*.lock): 50 testbeds at once?");
    }

    /// <summary>
    /// The Compose file of an app every daemon test deploys: busybox httpd serving /www on 8080, published on
    /// <paramref name="port"/>, capped at a quarter CPU and 64 MiB per replica.
    /// </summary>
    public string HttpApp(string name, int replicas, int port) => $$"""
        services:
          {{name}}:
            image: {{Image}}
            command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
            ports: ["{{port}}:8080"]
            deploy:
              replicas: {{replicas}}
              resources:
                limits: { cpus: "0.25", memory: 64M }
        """;

    /// <summary>Deploys <paramref name="compose"/> through host k's API with the admin token; fails the test unless it is accepted.</summary>
    public async Task DeployAsync(int host, string compose)
    {
        using var client = AdminClient();
        using var response = await client.PostAsync(new Uri(Api(host), "/v1/apps"), new StringContent(compose, System.Text.Encoding.UTF8, "application/yaml"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The repository's root (where VolunteerCloud.sln is), above the test's output folder.</summary>
    public static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "VolunteerCloud.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (VolunteerCloud.sln) is not above " + AppContext.BaseDirectory);
    }

    /// <summary>Host k's network namespace.</summary>
    public string Namespace(int host) => $"vc{Net}h{host}";

    /// <summary>The admin token every test daemon accepts.</summary>
    public const string AdminToken = "testbed-admin-token-0123456789";

    /// <summary>A client that sends the admin token.</summary>
    public static HttpClient AdminClient(TimeSpan? timeout = null)
    {
        var client = new HttpClient { Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    private static readonly Lazy<string?> Missing = new(FindMissing);
    private readonly List<Process> _daemons = [];

    public string State => Path.Combine(Path.GetTempPath(), $"vctb-{Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)}-{Net.ToString(System.Globalization.CultureInfo.InvariantCulture)}");

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Testbed", "testbed.sh");

    /// <summary>Why the testbed cannot run here, or null.</summary>
    public static string? WhyUnavailable => Missing.Value;

    /// <summary>Fails the test (does not skip) when the testbed could not come up: the attribute already skipped where that is allowed.</summary>
    public static void Require()
    {
        if (WhyUnavailable is { } why)
        {
            throw new InvalidOperationException("Docker testbed unavailable (VC_REQUIRE_DOCKER=1): " + why);
        }
    }

    public string Address(int host) => $"10.{Net}.{host}.2";

    public string Engine(int host) => $"unix://{State}/d{host}.sock";

    public Uri Api(int host) => new($"http://{Address(host)}:7947");

    public async Task InitializeAsync()
    {
        if (WhyUnavailable is not null)
        {
            return;
        }

        await RunScript("down", State, Hosts.ToString(System.Globalization.CultureInfo.InvariantCulture)); // leftovers of an aborted run
        await RunScript("up", State, Hosts.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public async Task DisposeAsync()
    {
        if (WhyUnavailable is not null)
        {
            return;
        }

        StopAllDaemons();
        await RunScript("down", State, Hosts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await _lock.Value.Lock.DisposeAsync();
    }

    /// <summary>Starts vchost on a host (in its namespace, on its engine), seeded with host 1, and waits until its API answers.</summary>
    public async Task<Process> StartDaemonAsync(int host, params string[] extra)
    {
        var vchost = Path.Combine(AppContext.BaseDirectory, "vchost.dll");
        var log = Path.Combine(State, $"vchost{host}.log");
        var info = new ProcessStartInfo("nsenter")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     $"--net=/var/run/netns/{Namespace(host)}", "dotnet", vchost,
                     "--Volunteer:BindAddress", Address(host),
                     "--Volunteer:DockerEndpoint", Engine(host),
                     "--Volunteer:Seeds:0", $"{Address(1)}:7946",
                     "--Volunteer:RescheduleGrace", "00:00:01",
                     "--Volunteer:StopGrace", "00:00:02",
                     "--Volunteer:LeaveDrainTimeout", "00:00:20",
                     "--Volunteer:DataDirectory", Path.Combine(State, $"h{host}"),
                     "--Volunteer:AdminTokens:0", AdminToken,
                     "--Logging:LogLevel:Default", "Information",
                 }.Concat(extra))
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var writer = new StreamWriter(log, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (writer) { writer.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (writer) { writer.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_daemons)
        {
            _daemons.Add(process);
        }

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"vchost on host {host} exited with {process.ExitCode}; its log: {log}\n{await File.ReadAllTextAsync(log)}");
            }

            try
            {
                if ((await client.GetAsync(new Uri(Api(host), "/healthz"))).IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"vchost on host {host} did not answer within 30 s; its log: {log}");
    }

    /// <summary>Starts vchost on hosts 1..n (host 1 first, the others seeded with it) and waits until host 1 sees them all.</summary>
    public async Task<IReadOnlyList<Process>> StartClusterAsync(int n = Hosts)
    {
        var daemons = new List<Process> { await StartDaemonAsync(1) };
        for (var host = 2; host <= n; host++)
        {
            daemons.Add(await StartDaemonAsync(host));
        }

        await Eventually(TimeSpan.FromSeconds(20), async () => (await Members(1)).Count(m => m.State == "alive") == n, $"host 1 sees {n} live members");
        return daemons;
    }

    /// <summary>kill -9 of a host's daemon and its engine (and the engine's containers): the machine is gone.</summary>
    public async Task KillHostAsync(int host, Process daemon)
    {
        daemon.Kill(entireProcessTree: true);
        await daemon.WaitForExitAsync();
        await RunScript("engine-down", State, host.ToString(System.Globalization.CultureInfo.InvariantCulture), "KILL");
    }

    /// <summary>Deletes what a host kept of its cluster (<c>cluster-member</c>, <c>desired-state</c> and any set aside, <c>peers</c>), as a volunteer does to found a new cluster.</summary>
    public void ForgetCluster(int host)
    {
        var directory = Path.Combine(State, $"h{host}");
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (var file in Directory.GetFiles(directory).Where(f => Path.GetFileName(f) is "cluster-member" or "peers" || Path.GetFileName(f).StartsWith("desired-state", StringComparison.Ordinal)))
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// Stops every daemon (kill), removes every container on every engine, restarts engines that were stopped, and
    /// forgets that the hosts were cluster members, their desired state and peers (each test starts a new cluster).
    /// </summary>
    public async Task ResetAsync()
    {
        StopAllDaemons();
        for (var host = 1; host <= Hosts; host++)
        {
            ForgetCluster(host);

            if (!File.Exists(Path.Combine(State, $"d{host}", "docker.pid")))
            {
                await RunScript("engine-up", State, host.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            var ids = (await Run("docker", "-H", Engine(host), "ps", "-aq")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (ids.Length > 0)
            {
                await Run("docker", ["-H", Engine(host), "rm", "-f", .. ids]);
            }
        }
    }

    /// <summary>
    /// Cuts a host off from the others (its router's FORWARD chain drops its traffic both ways); the test process, in
    /// the root namespace, still reaches its API. <see cref="HealAsync"/> undoes every cut.
    /// </summary>
    public async Task CutAsync(int host)
    {
        foreach (var direction in new[] { "-i", "-o" })
        {
            await Run("iptables", "-I", "FORWARD", direction, $"{Namespace(host)}r", "-j", "DROP", "-m", "comment", "--comment", $"vc{Net}-partition");
        }
    }

    /// <summary>Removes every rule <see cref="CutAsync"/> added (by its comment), whatever host it cut.</summary>
    public async Task HealAsync()
    {
        var rules = await Run("iptables", "-S", "FORWARD");
        foreach (var rule in rules.Split('\n').Where(r => r.Contains($"vc{Net}-partition", StringComparison.Ordinal)))
        {
            var args = rule.Replace("\"", string.Empty, StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            await Run("iptables", ["-D", .. args.Skip(1)]);
        }
    }

    public async Task<List<MemberInfo>> Members(int host)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        return (await client.GetFromJsonAsync<List<MemberInfo>>(new Uri(Api(host), "/v1/members")))!;
    }

    public async Task<NodeInfo> Node(int host)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        return (await client.GetFromJsonAsync<NodeInfo>(new Uri(Api(host), "/v1/node")))!;
    }

    public async Task<AppInfo?> App(int host, string name)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        using var response = await client.GetAsync(new Uri(Api(host), $"/v1/apps/{name}"));
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<AppInfo>() : null;
    }

    /// <summary>Whether the app's HTTP port answers on a host.</summary>
    public async Task<bool> Answers(int host, int port)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromMilliseconds(500) };
        try
        {
            return (await client.GetStringAsync(new Uri($"http://{Address(host)}:{port}/"))).Contains("volunteercloud", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public static async Task Eventually(TimeSpan timeout, Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not within {timeout}: {what}.");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Runs testbed.sh on this testbed (its number in VCTB_NET names its namespaces, addresses and rules).</summary>
    public Task<string> RunScript(params string[] args) =>
        Run(Script, new Dictionary<string, string> { ["VCTB_NET"] = Net.ToString(System.Globalization.CultureInfo.InvariantCulture) }, args);

    public static Task<string> Run(string file, params string[] args) => Run(file, null, args);

    private static async Task<string> Run(string file, Dictionary<string, string>? environment, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}");
        }

        return await stdout;
    }

    private void StopAllDaemons()
    {
        lock (_daemons)
        {
            foreach (var daemon in _daemons.Where(d => !d.HasExited))
            {
                daemon.Kill(entireProcessTree: true);
                daemon.WaitForExit(5_000);
            }

            _daemons.Clear();
        }
    }

    private static string? FindMissing()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "the testbed needs Linux network namespaces";
        }

        if (geteuid() != 0)
        {
            return "the testbed needs root (network namespaces, dockerd)";
        }

        foreach (var tool in new[] { "dockerd", "docker", "docker-registry", "busybox", "nsenter", "ip", "iptables" })
        {
            if (!Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(dir => File.Exists(Path.Combine(dir, tool))))
            {
                return $"'{tool}' is not installed (apt-get install docker.io docker-registry busybox-static iptables)";
            }
        }

        return null;
    }

    [DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();
}

/// <summary>
/// The tests that share a testbed run one at a time; the two collections ("testbed": the cluster tests, and
/// "testbed-b": faults, the Docker runtime, the container image) run side by side, each on a testbed of its own.
/// </summary>
[CollectionDefinition("testbed")]
public sealed class TestbedGroup : ICollectionFixture<Testbed>;

/// <summary>The second testbed's collection (see <see cref="TestbedGroup"/>).</summary>
[CollectionDefinition("testbed-b")]
public sealed class SecondTestbedGroup : ICollectionFixture<Testbed>;

/// <summary>A fact that needs the testbed: skipped with the reason where it cannot run, unless VC_REQUIRE_DOCKER=1.</summary>
public sealed class TestbedFactAttribute : FactAttribute
{
    public TestbedFactAttribute()
    {
        if (Testbed.WhyUnavailable is { } why && Environment.GetEnvironmentVariable("VC_REQUIRE_DOCKER") != "1")
        {
            Skip = "Docker testbed unavailable: " + why;
        }
    }
}
