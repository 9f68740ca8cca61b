using System.Reflection;
using System.Text;
using VolunteerCloud.Apps;
using VolunteerCloud.Compose;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Simulator.Experiments.Runner;
using VolunteerCloud.Simulator.Traces;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Fuzz;

/// <summary>
/// What the fuzzer feeds: each target takes any bytes and may only fail with the documented error of its parser
/// (a malformed datagram is a <see cref="WireFormatException"/>, a bad Compose file a <see cref="ComposeException"/>
/// naming its line, …). Anything else escaping — or a hang — is a finding.
/// </summary>
public static class FuzzTargets
{
    private delegate void DatagramReader(ReadOnlySpan<byte> datagram);

    /// <summary>The targets by name.</summary>
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["wire"] = Wire,
        ["compose"] = Compose,
        ["experiment"] = Experiment,
        ["fta"] = Fta,
        ["kept"] = Kept,
    };

    // Every message type of the Sdk (the daemon's wire), found by reflection as MessageTypeTests does. Built on the
    // first input, not before: instrumented code must not run before SharpFuzz has set up AFL's coverage map.
    private static Dictionary<ushort, DatagramReader>? s_readers;

    private static Dictionary<ushort, DatagramReader> Readers => s_readers ??= typeof(WireFormat).Assembly.GetTypes()
        .Where(t => t.IsValueType && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IWireMessage<>)))
        .ToDictionary(
            t => ((MessageType)t.GetProperty(nameof(IWireMessage<StateDigest>.MessageType), BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!).Value,
            t => typeof(FuzzTargets).GetMethod(nameof(ReadAs), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(t).CreateDelegate<DatagramReader>());

    /// <summary>A datagram as a node receives it: the envelope, then the body as its message type; values inside control-plane messages too.</summary>
    public static void Wire(byte[] data)
    {
        try
        {
            var message = WireFormat.Decode(data);
            if (Readers.TryGetValue(message.Type.Value, out var read))
            {
                read(data);
            }
        }
        catch (WireFormatException)
        {
        }

        // The values the state carries: an app spec, a node's report.
        try
        {
            AppSpecCodec.Decode(data);
        }
        catch (WireFormatException)
        {
        }

        try
        {
            NodeReport.Decode(data);
        }
        catch (WireFormatException)
        {
        }
    }

    /// <summary>Every message type of the daemon's wire.</summary>
    public static IEnumerable<ushort> MessageTypes => Readers.Keys.Order();

    /// <summary>
    /// Decodes a datagram's envelope and its body as its message type, letting every error out: for corpus seeds,
    /// which must be valid datagrams (<see cref="Wire"/> swallows the decoder's errors). Throws for an unknown type.
    /// </summary>
    public static void ReadValidDatagram(byte[] data)
    {
        var type = WireFormat.Decode(data).Type.Value;
        if (!Readers.TryGetValue(type, out var read))
        {
            throw new WireFormatException($"no message type {type}");
        }

        read(data);
    }

    /// <summary>A Compose file (YAML, or its JSON form — one parser) as <c>vc deploy</c> and the HTTP API take it.</summary>
    public static void Compose(byte[] data)
    {
        try
        {
            ComposeFile.Parse(new StringReader(Encoding.UTF8.GetString(data)), "fuzz.yaml");
        }
        catch (ComposeException)
        {
        }
    }

    /// <summary>An experiment definition (<c>vcsim run</c>).</summary>
    public static void Experiment(byte[] data)
    {
        try
        {
            ExperimentDefinition.Parse(Encoding.UTF8.GetString(data), "fuzz/experiment.yaml", "fuzz");
        }
        catch (ExperimentDefinitionException)
        {
        }
    }

    /// <summary>An availability trace in the Failure Trace Archive's tab-separated form.</summary>
    public static void Fta(byte[] data)
    {
        try
        {
            FtaTraceFormat.Read(new StringReader(Encoding.UTF8.GetString(data)), "fuzz.tab");
        }
        catch (TraceFormatException)
        {
        }
    }

    /// <summary>The desired state a daemon keeps on disk (<c>DataDirectory/desired-state</c>), and the app specs in it.</summary>
    public static void Kept(byte[] data)
    {
        try
        {
            var entries = DesiredStateSnapshot.Decode(data);
            _ = ControlPlaneNode.ClusterIdOf(entries);
            foreach (var entry in entries)
            {
                if (!entry.Deleted && entry.Key.StartsWith("app/", StringComparison.Ordinal))
                {
                    try
                    {
                        AppSpecCodec.Decode(entry.Value.Span);
                    }
                    catch (WireFormatException)
                    {
                    }
                }
            }
        }
        catch (WireFormatException)
        {
        }
    }

    /// <summary>
    /// Writes the kept target's seeds: an empty state, and one per Compose seed holding its apps (as a daemon keeps
    /// them after <c>vc deploy</c>) with a removed app's tombstone and the cluster's id. Returns how many were written.
    /// </summary>
    public static int WriteKeptSeeds(string composeCorpus, string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "empty.bin"), DesiredStateSnapshot.Encode([]));
        var written = 1;
        foreach (var file in Directory.EnumerateFiles(composeCorpus).Order(StringComparer.Ordinal))
        {
            var apps = ComposeFile.Parse(new StringReader(File.ReadAllText(file)), Path.GetFileName(file));
            var entries = apps.Select((app, i) => new StateEntry("app/" + app.Name, 638_000_000_000_000_000 + i, new NodeId(i + 1), false, AppSpecCodec.Encode(app)))
                .Append(new StateEntry("app/removed", 638_000_000_000_000_100, new NodeId(7), true, ReadOnlyMemory<byte>.Empty))
                .Append(new StateEntry("cluster/id", 1, new NodeId(1), false, Enumerable.Range(0, 16).Select(b => (byte)(b * 17)).ToArray()));
            File.WriteAllBytes(Path.Combine(directory, Path.GetFileNameWithoutExtension(file) + ".bin"), DesiredStateSnapshot.Encode(entries));
            written++;
        }

        return written;
    }

    private static void ReadAs<T>(ReadOnlySpan<byte> datagram)
        where T : IWireMessage<T>
    {
        var message = WireFormat.Decode(datagram);
        _ = message.Read<T>();
    }
}
