using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Host.Runtime;
using VolunteerCloud.Host.Transport;
using VolunteerCloud.Membership;

namespace VolunteerCloud.Host.Api;

/// <summary>
/// The daemon's instruments (System.Diagnostics.Metrics, meter "VolunteerCloud.Host") and their Prometheus text
/// exposition: a scrape reads the node's counters on its loop, then collects every observable instrument of the
/// meter with a <see cref="MeterListener"/>.
/// </summary>
internal static class Metrics
{
    public const string MeterName = "VolunteerCloud.Host";

    /// <summary>Creates the instruments (once per runtime) over a snapshot the scrape refreshes.</summary>
    public static void CreateInstruments(Meter meter, Func<Snapshot> read)
    {
        meter.CreateObservableGauge("vc_members_alive", () => read().MembersAlive, description: "Members this node sees alive or suspect.");
        meter.CreateObservableGauge("vc_apps", () => read().Apps, description: "Apps in the desired state.");
        meter.CreateObservableGauge("vc_replicas_local", () => read().LocalReplicas, description: "Replicas this node runs or is starting.");
        meter.CreateObservableGauge("vc_apps_stewarded", () => read().Stewarded, description: "Apps this node is steward of.");
        meter.CreateObservableGauge("vc_cpus_allocated", () => read().AllocatedCpus, description: "CPUs allocated to containers (of the volunteer's cap).");
        meter.CreateObservableGauge("vc_cpus_capacity", () => read().CapacityCpus, description: "CPUs the volunteer allows.");
        meter.CreateObservableGauge("vc_memory_allocated_bytes", () => read().AllocatedMemory, description: "Memory allocated to containers.");
        meter.CreateObservableGauge("vc_memory_capacity_bytes", () => read().CapacityMemory, description: "Memory the volunteer allows.");
        meter.CreateObservableCounter("vc_datagrams_sent_total", () => read().Sent, description: "Datagrams sent to peers.");
        meter.CreateObservableCounter("vc_datagrams_received_total", () => read().Received, description: "Datagrams received from peers.");
        meter.CreateObservableCounter("vc_datagrams_dropped_total", () => read().Dropped, description: "Datagrams dropped (unknown peer, send error, malformed, full queue).");
        meter.CreateObservableCounter("vc_frames_rejected_total", () => read().Rejected, description: "Frames the keyring refused (forged or tampered, unknown key, in the clear, replayed, stale).");
        meter.CreateObservableCounter(
            "vc_frames_dropped_total",
            () => read().DropsByReason.Select(d => new Measurement<long>(d.Count, new KeyValuePair<string, object?>("reason", d.Reason))),
            description: "Frames and datagrams dropped, by reason: unknown_peer, send_error, malformed, queue_full (the node's input queue), and the keyring's forged, unknown_key, plaintext, replayed, stale.");
        meter.CreateObservableCounter("vc_commands_sent_total", () => read().CommandsSent, description: "Start and stop commands sent as a steward.");
        meter.CreateObservableCounter("vc_containers_started_total", () => read().ContainersStarted, description: "Containers started on this node.");
        meter.CreateObservableCounter("vc_reconciles_total", () => read().Reconciles, description: "Reconcile passes run as a steward.");
    }

    public static async Task<string> RenderAsync(NodeRuntime runtime, CancellationToken cancellationToken)
    {
        await runtime.RefreshSnapshotAsync(cancellationToken).ConfigureAwait(false);
        var lines = new SortedDictionary<string, (string Type, string Help, double Value)>(StringComparer.Ordinal); // key: name, then {labels}
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == MeterName && ReferenceEquals(instrument.Meter, runtime.Meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => lines[Series(i.Name, tags)] = (Kind(i), i.Description ?? "", v));
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => lines[Series(i.Name, tags)] = (Kind(i), i.Description ?? "", v));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => lines[Series(i.Name, tags)] = (Kind(i), i.Description ?? "", v));
        listener.Start();
        listener.RecordObservableInstruments();
        var text = new StringBuilder();
        string? previous = null;
        foreach (var (series, (type, help, value)) in lines)
        {
            var name = series.Split('{')[0];
            if (name != previous)
            {
                text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
                text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
                previous = name;
            }

            text.Append(series).Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>A series' name: the instrument's, with its tags as Prometheus labels (values are our own identifiers, never user text).</summary>
    private static string Series(string name, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return name;
        }

        var labels = new List<string>(tags.Length);
        foreach (var (key, value) in tags)
        {
            labels.Add($"{key}=\"{Convert.ToString(value, CultureInfo.InvariantCulture)}\"");
        }

        return $"{name}{{{string.Join(',', labels)}}}";
    }

    private static string Kind(Instrument instrument) => instrument.GetType().Name.StartsWith("ObservableCounter", StringComparison.Ordinal) ? "counter" : "gauge";

    /// <summary>What the instruments report, read on the node's loop.</summary>
    public sealed record Snapshot(int MembersAlive, int Apps, int LocalReplicas, int Stewarded, double AllocatedCpus, double CapacityCpus, long AllocatedMemory, long CapacityMemory,
        long Sent, long Received, long Dropped, long Rejected, long CommandsSent, long ContainersStarted, long Reconciles)
    {
        /// <summary>Drops by reason (the sum of <see cref="Dropped"/> and <see cref="Rejected"/>).</summary>
        public IReadOnlyList<(string Reason, long Count)> DropsByReason { get; init; } = [];

        public static Snapshot Empty { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        public static int Alive(MembershipView view) => view.Members.Count(m => m.State is MemberState.Alive or MemberState.Suspect);

        /// <summary>Reads the node's and the transport's counters; call on the node's loop.</summary>
        public static Snapshot Of(ControlPlaneNode node, NodeContext context, PeerTransport transport, long droppedInputs)
        {
            var (sent, received) = (Interlocked.Read(ref transport.Sent), Interlocked.Read(ref transport.Received));
            (string Reason, long Count)[] dropped =
            [
                ("unknown_peer", Interlocked.Read(ref transport.DroppedUnknownPeer)),
                ("send_error", Interlocked.Read(ref transport.DroppedSendError)),
                ("malformed", Interlocked.Read(ref transport.DroppedMalformed)),
                ("queue_full", droppedInputs),
                ("tcp_connection_limit", Interlocked.Read(ref transport.DroppedConnections)),
            ];
            (string Reason, long Count)[] rejected =
            [
                ("forged", Interlocked.Read(ref transport.DroppedForged)),
                ("unknown_key", Interlocked.Read(ref transport.DroppedUnknownKey)),
                ("plaintext", Interlocked.Read(ref transport.DroppedPlaintext)),
                ("replayed", Interlocked.Read(ref transport.DroppedReplayed)),
                ("stale", Interlocked.Read(ref transport.DroppedStale)),
            ];
            return new Snapshot(
                Alive(node.Membership.View),
                node.Apps.Count(),
                node.LocalReplicas.Count(),
                node.Stewarded.Count,
                context.Containers.Allocated.Cpus,
                context.Containers.Capacity.Cpus,
                context.Containers.Allocated.MemoryBytes,
                context.Containers.Capacity.MemoryBytes,
                sent,
                received,
                dropped.Sum(d => d.Count),
                rejected.Sum(d => d.Count),
                node.Counters.CommandsSent,
                node.Counters.ContainersStarted,
                node.Counters.Reconciles)
            {
                DropsByReason = [.. dropped, .. rejected],
            };
        }
    }
}
