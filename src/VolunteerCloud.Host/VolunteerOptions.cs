using System.Globalization;
using System.Net;
using VolunteerCloud.Containers;
using VolunteerCloud.Strategies;

namespace VolunteerCloud.Host;

/// <summary>
/// The volunteer's policy and the daemon's addresses, from the "Volunteer" section of appsettings.json, the
/// environment (<c>VC_Volunteer__CpuShare=0.25</c>) or the command line (<c>--Volunteer:CpuShare 0.25</c>).
/// The daemon never lets its containers' limits add up to more than these caps.
/// </summary>
public sealed class VolunteerOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Volunteer";

    /// <summary>This node's id, unique in the cluster (1 .. 2³¹−1). 0 (the default): derived from the advertised gossip address.</summary>
    public int NodeId { get; set; }

    /// <summary>Address the gossip socket (UDP and TCP) and the HTTP API bind to. Default 0.0.0.0.</summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>Address other volunteers reach this one at. Default: the bind address, or the first non-loopback IPv4 address when binding to all.</summary>
    public string? AdvertiseAddress { get; set; }

    /// <summary>Gossip port, UDP and TCP. Default 7946 (memberlist's).</summary>
    public int GossipPort { get; set; } = 7946;

    /// <summary>HTTP API port. Default 7947.</summary>
    public int ApiPort { get; set; } = 7947;

    /// <summary>Other volunteers to join through, as <c>host:port</c> of their gossip sockets. Empty: start a new cluster.</summary>
    public List<string> Seeds { get; set; } = [];

    /// <summary>Network region (0: unknown), used by region-spreading placement.</summary>
    public int Region { get; set; }

    /// <summary>Share of this machine's CPUs the containers may use in all (0..1]. Default 0.5.</summary>
    public double CpuShare { get; set; } = 0.5;

    /// <summary>Memory the containers may use in all, in MiB. Default 1024.</summary>
    public long MemoryMegabytes { get; set; } = 1024;

    /// <summary>Disk the images this daemon pulls may take in all, in MiB; unused ones are removed, least recently used first. Default 10 240.</summary>
    public long DiskMegabytes { get; set; } = 10_240;

    /// <summary>Hours of the day (local time, 0–23) in which this machine is lent; empty (the default): all day. Outside them the daemon leaves gracefully and exits; started outside them, it waits for the next allowed hour before joining.</summary>
    public List<int> AllowedHours { get; set; } = [];

    /// <summary>Where the daemon keeps its few files (which images it pulled). Default /var/lib/vchost.</summary>
    public string DataDirectory { get; set; } = "/var/lib/vchost";

    /// <summary>Largest number of processes in one container (the engine's pids limit). Default 256.</summary>
    public long PidsLimit { get; set; } = 256;

    /// <summary>The Docker Engine endpoint. Default unix:///var/run/docker.sock.</summary>
    public string DockerEndpoint { get; set; } = "unix:///var/run/docker.sock";

    /// <summary>Address published container ports bind to on this machine. Default: all addresses.</summary>
    public string? PublishAddress { get; set; }

    /// <summary>How long a container gets between SIGTERM and SIGKILL. Default 10 s (Docker's).</summary>
    public TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the daemon waits for a restarted replica's copy elsewhere on a graceful leave before it stops its own. Default 30 s.</summary>
    public TimeSpan LeaveDrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Reactive rescheduling grace after a host is declared dead. Default 30 s (as the Sdk's).</summary>
    public TimeSpan RescheduleGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The membership protocol (a name of <see cref="StrategyByNameExtensions.MembershipNames"/>; its options under <c>Swim</c> or <c>Heartbeat</c>). Default "swim".</summary>
    public string Membership { get; set; } = StrategyNames.Swim;

    /// <summary>Where this node's stewards place replicas (a name of <see cref="StrategyCatalog.Placements"/>). Default "power-of-2".</summary>
    public string Placement { get; set; } = StrategyNames.PowerOfTwo;

    /// <summary>What this node's stewards do about hosts that leave (a name of <see cref="StrategyCatalog.ChurnHandlers"/>), with <see cref="RescheduleGrace"/>. Default "proactive".</summary>
    public string ChurnHandler { get; set; } = StrategyNames.Proactive;

    /// <summary>
    /// With the proactive handler: also move replicas off hosts predicted to stay up less than this many hours. Default 0:
    /// only off hosts whose owners announced they leave (a daemon's own prediction starts from the population model).
    /// </summary>
    public double MigrateBelowResidualHours { get; set; }

    /// <summary>
    /// The cluster's keys, base64 (16, 24 or 32 bytes each; <c>openssl rand -base64 32</c>); the first is the primary.
    /// With keys, every frame between volunteers is sealed with AES-GCM and a node without a key cannot join. Empty
    /// (the default): frames go in the clear — only on a network you trust.
    /// </summary>
    public List<string> Keys { get; set; } = [];

    /// <summary>How far a sealed frame's send time may be from this node's clock (replay and clock-skew window). Default 30 s.</summary>
    public TimeSpan ReplayWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// API tokens that may change the cluster (deploy, scale, remove, keys, leave). Empty (the default): the daemon makes
    /// one at first start and keeps it in <see cref="DataDirectory"/>/admin-token (readable by root only). Writes are never anonymous.
    /// </summary>
    public List<string> AdminTokens { get; set; } = [];

    /// <summary>API tokens that may only read.</summary>
    public List<string> ReadTokens { get; set; } = [];

    /// <summary>Whether reads (apps, members, node, logs) need no token. Default true; /healthz and /metrics never need one.</summary>
    public bool AnonymousRead { get; set; } = true;

    /// <summary>A PKCS#12 (.pfx) certificate for HTTPS on the API port; none (the default): plain HTTP.</summary>
    public string? TlsCertificate { get; set; }

    /// <summary>The certificate's password, if it has one.</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>The keys, decoded.</summary>
    public IEnumerable<byte[]> KeyBytes => Keys.Select(Convert.FromBase64String);

    /// <summary>Datagrams longer than this go over TCP instead of UDP. Default 1 400 bytes (memberlist's UDPBufferSize).</summary>
    public int MaxUdpPayload { get; set; } = 1_400;

    /// <summary>The caps as the container runtime's capacity.</summary>
    public ResourceAmount Capacity => new(CpuShare * Environment.ProcessorCount, MemoryMegabytes << 20);

    /// <summary>Whether the machine is lent at this local time.</summary>
    public bool IsAllowed(DateTimeOffset localTime) => AllowedHours.Count == 0 || AllowedHours.Contains(localTime.Hour);

    /// <summary>How long from <paramref name="localTime"/> until the next allowed hour begins (zero when allowed now).</summary>
    public TimeSpan UntilAllowed(DateTimeOffset localTime)
    {
        if (IsAllowed(localTime))
        {
            return TimeSpan.Zero;
        }

        var hourStart = new DateTimeOffset(localTime.Year, localTime.Month, localTime.Day, localTime.Hour, 0, 0, localTime.Offset);
        for (var hours = 1; hours <= 24; hours++)
        {
            if (AllowedHours.Contains(hourStart.AddHours(hours).Hour))
            {
                return hourStart.AddHours(hours) - localTime;
            }
        }

        return TimeSpan.Zero; // unreachable: AllowedHours is not empty and holds hours 0–23
    }

    /// <summary>Checks every option; the message lists each problem and how to fix it.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (NodeId < 0)
        {
            problems.Add($"{Section}:NodeId must be between 1 and {int.MaxValue}, or 0 to derive it from the address.");
        }

        if (!IPAddress.TryParse(BindAddress, out _))
        {
            problems.Add($"{Section}:BindAddress '{BindAddress}' is not an IP address.");
        }

        if (AdvertiseAddress is { } advertise && !IPAddress.TryParse(advertise, out _))
        {
            problems.Add($"{Section}:AdvertiseAddress '{advertise}' is not an IP address.");
        }

        if (GossipPort is < 1 or > 65535 || ApiPort is < 1 or > 65535 || GossipPort == ApiPort)
        {
            problems.Add($"{Section}:GossipPort and {Section}:ApiPort must be two different ports between 1 and 65535.");
        }

        foreach (var seed in Seeds)
        {
            if (!IPEndPoint.TryParse(seed, out var endpoint) || endpoint.Port == 0)
            {
                problems.Add($"{Section}:Seeds entry '{seed}' is not host:port (an IP address and a port).");
            }
        }

        if (!(CpuShare > 0 && CpuShare <= 1))
        {
            problems.Add($"{Section}:CpuShare must be in (0, 1], got {CpuShare.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (MemoryMegabytes < 16)
        {
            problems.Add($"{Section}:MemoryMegabytes must be at least 16.");
        }

        if (DiskMegabytes < 1)
        {
            problems.Add($"{Section}:DiskMegabytes must be at least 1.");
        }

        if (AllowedHours.Any(h => h is < 0 or > 23))
        {
            problems.Add($"{Section}:AllowedHours must be hours 0–23.");
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            problems.Add($"{Section}:DataDirectory must be a directory the daemon may write to.");
        }

        if (PidsLimit < 8)
        {
            problems.Add($"{Section}:PidsLimit must be at least 8.");
        }

        if (!Uri.TryCreate(DockerEndpoint, UriKind.Absolute, out _))
        {
            problems.Add($"{Section}:DockerEndpoint '{DockerEndpoint}' is not a URI (e.g. unix:///var/run/docker.sock).");
        }

        if (PublishAddress is { } publish && !IPAddress.TryParse(publish, out _))
        {
            problems.Add($"{Section}:PublishAddress '{publish}' is not an IP address.");
        }

        if (StopGrace < TimeSpan.Zero || LeaveDrainTimeout < TimeSpan.Zero || RescheduleGrace < TimeSpan.Zero)
        {
            problems.Add($"{Section}:StopGrace, LeaveDrainTimeout and RescheduleGrace must not be negative.");
        }

        if (!StrategyByNameExtensions.MembershipNames.Contains(Membership))
        {
            problems.Add($"{Section}:Membership '{Membership}' is not a membership protocol; choose one of: {string.Join(", ", StrategyByNameExtensions.MembershipNames)}.");
        }

        if (!StrategyCatalog.Placements.ContainsKey(Placement))
        {
            problems.Add($"{Section}:Placement '{Placement}' is not a placement strategy; choose one of: {string.Join(", ", StrategyCatalog.Placements.Keys)}.");
        }

        if (!StrategyCatalog.ChurnHandlers.ContainsKey(ChurnHandler))
        {
            problems.Add($"{Section}:ChurnHandler '{ChurnHandler}' is not a churn handler; choose one of: {string.Join(", ", StrategyCatalog.ChurnHandlers.Keys)}.");
        }

        if (!(MigrateBelowResidualHours >= 0))
        {
            problems.Add($"{Section}:MigrateBelowResidualHours must not be negative.");
        }

        foreach (var key in Keys)
        {
            var bytes = new byte[64];
            if (!Convert.TryFromBase64String(key, bytes, out var length) || length is not (16 or 24 or 32))
            {
                problems.Add($"{Section}:Keys entry '{(key.Length > 8 ? key[..8] + "…" : key)}' is not a base64 key of 16, 24 or 32 bytes (make one with: openssl rand -base64 32).");
            }
        }

        if (Keys.Distinct(StringComparer.Ordinal).Count() != Keys.Count)
        {
            problems.Add($"{Section}:Keys lists a key twice.");
        }

        if (AdminTokens.Concat(ReadTokens).Any(t => t.Length < 16))
        {
            problems.Add($"{Section}:AdminTokens and ReadTokens must be at least 16 characters (openssl rand -hex 32 makes one).");
        }

        if (TlsCertificate is { } certificate && !File.Exists(certificate))
        {
            problems.Add($"{Section}:TlsCertificate '{certificate}' does not exist.");
        }

        if (ReplayWindow < TimeSpan.FromSeconds(1))
        {
            problems.Add($"{Section}:ReplayWindow must be at least 1 s.");
        }

        if (MaxUdpPayload is < 512 or > 65_000)
        {
            problems.Add($"{Section}:MaxUdpPayload must be between 512 and 65000 bytes.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid volunteer configuration:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  " + p)));
        }
    }
}
