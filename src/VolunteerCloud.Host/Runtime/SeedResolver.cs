using System.IO.Hashing;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using VolunteerCloud.Host.Transport;

namespace VolunteerCloud.Host.Runtime;

/// <summary>
/// Turns the configured seeds (<c>host:port</c>) into node ids by saying hello to each, and falls back to the members
/// the last life kept (<see cref="KeptPeers"/>) when no seed answers; also where this node's own address and id come
/// from when they are not configured.
/// </summary>
internal sealed partial class SeedResolver(PeerTransport transport, IPEndPoint advertised, IReadOnlyList<string> seeds, KeptPeers keptPeers, ILogger logger)
{
    /// <summary>
    /// The seeds (<see cref="ResolveAsync"/>); when no other node answers among them (or none was given: a founder
    /// restarted after the others declared it dead), the members the last life kept, for 2 s, so the node rejoins the
    /// cluster rather than wait for someone to reach it.
    /// </summary>
    public async Task<(List<NodeId> Others, int Self)> ResolveOrKeptAsync(CancellationToken cancellationToken, TimeSpan? patience = null)
    {
        var (others, self) = await ResolveAsync(cancellationToken, patience).ConfigureAwait(false);
        if (others.Count == 0 && keptPeers.Current.Count > 0)
        {
            others = (await ResolveAsync(cancellationToken, TimeSpan.FromSeconds(2), keptPeers.Endpoints(advertised)).ConfigureAwait(false)).Others;
        }

        return (others, self);
    }

    /// <summary>
    /// Says hello to every seed: the ids of those that answered and are other nodes, and how many seeds are this node
    /// itself (its advertised address, or another address of it — loopback, a NAT's — that answered with its own id).
    /// </summary>
    public async Task<(List<NodeId> Others, int Self)> ResolveAsync(CancellationToken cancellationToken, TimeSpan? patience = null, List<IPEndPoint>? kept = null)
    {
        var others = new List<NodeId>();
        var endpoints = kept ?? [.. seeds.Select(IPEndPoint.Parse)];
        if (endpoints.Count == 0)
        {
            return (others, 0);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(patience ?? TimeSpan.FromSeconds(10));
        var self = endpoints.Count(e => e.Equals(advertised));
        var hellos = endpoints.Where(e => !e.Equals(advertised)).Select(async endpoint =>
        {
            try
            {
                return (NodeId?)await transport.HelloAsync(endpoint, TimeSpan.FromMilliseconds(500), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (kept is null)
                {
                    LogSeedSilent(logger, endpoint); // kept members may have left for good: not a warning each time
                }

                return null;
            }
        }).ToList();
        foreach (var id in await Task.WhenAll(hellos).ConfigureAwait(false))
        {
            if (id == transport.Self)
            {
                self++;
            }
            else if (id is { } seed)
            {
                others.Add(seed);
            }
        }

        return (others, self);
    }

    /// <summary>A node id from the advertised address: xxHash32 of "ip:port", 31 bits, never 0.</summary>
    public static int DeriveNodeId(IPEndPoint advertised)
    {
        var hash = XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(advertised.ToString())) & 0x7FFF_FFFF;
        return hash == 0 ? 1 : (int)hash;
    }

    /// <summary>The address to advertise when none is configured: the bind address, or the first IPv4 address of an interface that is up.</summary>
    public static IPAddress GuessAdvertiseAddress(IPAddress bind)
    {
        if (!bind.Equals(IPAddress.Any) && !bind.Equals(IPAddress.IPv6Any))
        {
            return bind;
        }

        return NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? IPAddress.Loopback;
    }

    [LoggerMessage(2, LogLevel.Warning, "Seed {Seed} did not answer")]
    private static partial void LogSeedSilent(ILogger logger, IPEndPoint seed);
}
