using System.Globalization;
using System.Text;
using VolunteerCloud.Api;
using VolunteerCloud.Host.Api;
using Xunit.Abstractions;

namespace VolunteerCloud.Host.Tests;

/// <summary>
/// Real faults on the namespaced hosts (issue 8): kill -9 of daemons and engines in the middle of deploys and
/// scale-ups, and a host cut off by dropping its veth's traffic. Nothing acknowledged may be lost, and every app
/// must converge to its replicas — counted on the engines themselves, not only in the API.
/// </summary>
[Collection("testbed-b")]
public sealed class FaultTests(Testbed testbed, ITestOutputHelper output) : IAsyncLifetime
{
    public Task InitializeAsync() => Testbed.WhyUnavailable is null ? testbed.ResetAsync() : Task.CompletedTask;

    public Task DisposeAsync() => Testbed.WhyUnavailable is null ? testbed.HealAsync() : Task.CompletedTask;

    private string App(string name, int replicas, int port) => testbed.HttpApp(name, replicas, port);

    [TestbedFact]
    public async Task Hosts_killed_with_minus_9_during_deploys_and_scale_ups_lose_no_acknowledged_change_and_apps_converge()
    {
        Testbed.Require();
        var daemons = (await testbed.StartClusterAsync()).ToArray();
        using var client = Testbed.AdminClient();

        // A deploy through host 1, and host 3 killed as it happens.
        await Post(client, 1, "/v1/apps", App("alpha", 2, 18081));
        await testbed.KillHostAsync(3, daemons[2]);

        // A deploy through host 2 and a scale-up through host 4; host 2, which acknowledged its deploy, killed at once.
        await Post(client, 2, "/v1/apps", App("beta", 2, 18082));
        await Post(client, 4, "/v1/apps/alpha/scale?replicas=3", null);
        await testbed.KillHostAsync(2, daemons[1]);
        output.WriteLine("killed host 3 during alpha's deploy, host 2 right after it acknowledged beta's deploy and during alpha's scale-up");

        // The dead hosts come back empty, as a volunteer's machine would.
        foreach (var host in new[] { 2, 3 })
        {
            await testbed.RunScript("engine-up", testbed.State, host.ToString(CultureInfo.InvariantCulture));
            daemons[host - 1] = await testbed.StartDaemonAsync(host);
        }

        await Converged(new() { ["alpha"] = 3, ["beta"] = 2 }, TimeSpan.FromSeconds(120));
    }

    [TestbedFact]
    public async Task A_host_cut_off_by_a_partition_rejoins_when_it_heals_and_the_app_converges_to_its_replicas()
    {
        Testbed.Require();
        await testbed.StartClusterAsync();
        using var client = Testbed.AdminClient();
        await Post(client, 1, "/v1/apps", App("web", 3, 18080));
        await Converged(new() { ["web"] = 3 }, TimeSpan.FromSeconds(60));
        var cut = (await testbed.App(1, "web"))!.Placement.Where(p => p.Running).Select(p => HostOf(p.Address!)).First(h => h != 1);

        // Drop everything host `cut` sends or receives through the main namespace (the test still reaches its API).
        await testbed.CutAsync(cut);
        var cutAt = DateTime.UtcNow;
        await Testbed.Eventually(TimeSpan.FromSeconds(60), async () =>
        {
            var app = await testbed.App(1, "web");
            return app is not null && app.Placement.Count(p => p.Running && HostOf(p.Address!) != cut) == 3;
        }, $"the majority side runs 3 copies without host {cut}");
        output.WriteLine($"host {cut} cut off: the other side ran 3 copies without it after {(DateTime.UtcNow - cutAt).TotalSeconds:F1} s");
        await Post(client, Enumerable.Range(2, 3).First(h => h != cut), "/v1/apps/web/scale?replicas=2", null); // a change on the majority side while the partition lasts
        await Task.Delay(TimeSpan.FromSeconds(10));

        await testbed.HealAsync();
        var healedAt = DateTime.UtcNow;
        await Converged(new() { ["web"] = 2 }, TimeSpan.FromSeconds(150));
        output.WriteLine($"healed: every view whole, 2 copies on the engines, the same desired state everywhere after {(DateTime.UtcNow - healedAt).TotalSeconds:F1} s");
    }

    /// <summary>Every host sees every host alive and the same apps with exactly their replicas running, and the engines run exactly that many copies.</summary>
    private async Task Converged(Dictionary<string, int> apps, TimeSpan timeout)
    {
        var last = "";
        try
        {
            await Testbed.Eventually(timeout, async () =>
        {
            try
            {
                return await ConvergedNow();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
                return false;
            }
        }, $"the cluster converges to {string.Join(", ", apps.Select(a => $"{a.Key} × {a.Value}"))}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} Last seen: {last}", e);
        }

        async Task<bool> ConvergedNow()
        {
            for (var host = 1; host <= Testbed.Hosts; host++)
            {
                var alive = (await testbed.Members(host)).Count(m => m.State == "alive");
                if (alive != Testbed.Hosts)
                {
                    last = $"host {host} sees {alive} members alive";
                    return false;
                }

                foreach (var (name, replicas) in apps)
                {
                    var app = await testbed.App(host, name);
                    if (app is null || app.Replicas != replicas || app.Running != replicas || app.Placement.Count != replicas ||
                        app.Placement.Select(p => p.Address).Distinct().Count() != replicas)
                    {
                        last = $"host {host} sees {name} as {(app is null ? "unknown" : $"{app.Running}/{app.Replicas} running, {app.Placement.Count} placed")}";
                        return false;
                    }
                }
            }

            foreach (var (name, replicas) in apps)
            {
                var running = 0;
                for (var host = 1; host <= Testbed.Hosts; host++)
                {
                    running += (await Testbed.Run("docker", "-H", testbed.Engine(host), "ps", "-q", "--filter", $"label=volunteercloud.app={name}")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
                }

                if (running != replicas)
                {
                    last = $"the engines run {running} copies of {name}";
                    return false;
                }
            }

            return true;
        }
    }

    private async Task Post(HttpClient client, int host, string path, string? compose)
    {
        using var response = await client.PostAsync(new Uri(testbed.Api(host), path), compose is null ? null : new StringContent(compose, Encoding.UTF8, "application/yaml"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static int HostOf(string address) => int.Parse(address.Split('.')[2], CultureInfo.InvariantCulture);
}
