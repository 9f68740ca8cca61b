using System.Globalization;

namespace VolunteerCloud.Host;

/// <summary><c>vchost leave --in 60s</c>: the owner reclaims the machine; the local daemon moves its replicas away and stops.</summary>
internal static class LeaveCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var delay = "0s";
        var api = "http://127.0.0.1:7947";
        var token = Environment.GetEnvironmentVariable("VC_TOKEN");
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--in" when i + 1 < args.Length:
                    delay = args[++i];
                    break;
                case "--api" when i + 1 < args.Length:
                    api = args[++i];
                    break;
                case "--token" when i + 1 < args.Length:
                    token = args[++i];
                    break;
                default:
                    await Console.Error.WriteLineAsync($"vchost leave: unknown argument '{args[i]}'. Usage: vchost leave [--in 60s] [--api http://127.0.0.1:7947] [--token T]").ConfigureAwait(false);
                    return 2;
            }
        }

        if (!Api.HttpApi.TryParseDuration(delay, out var parsed))
        {
            await Console.Error.WriteLineAsync($"vchost leave: '{delay}' is not a duration (e.g. 60s, 5m).").ConfigureAwait(false);
            return 2;
        }

        token ??= File.Exists("/var/lib/vchost/admin-token") ? (await File.ReadAllTextAsync("/var/lib/vchost/admin-token").ConfigureAwait(false)).Trim() : null;
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }
        try
        {
            using var response = await client.PostAsync(new Uri($"{api.TrimEnd('/')}/v1/node/leave?in={parsed.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s"), null).ConfigureAwait(false);
            Console.WriteLine(await response.Content.ReadAsStringAsync().ConfigureAwait(false));
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"vchost leave: no daemon answers at {api} ({e.Message}). Is vchost running?").ConfigureAwait(false);
            return 1;
        }
    }
}
