using VolunteerCloud.Wire;

namespace VolunteerCloud.Simulator.Tests.Support;

/// <summary>A small message for tests: a number and the virtual time it was sent at.</summary>
internal readonly record struct Note(int Number, long SentAtTicks) : IWireMessage<Note>
{
    public static MessageType MessageType => new(65_000);

    public void Write(ref WireWriter writer)
    {
        writer.WriteVarInt32(Number);
        writer.WriteVarInt64(SentAtTicks);
    }

    public static Note Read(ref WireReader reader) => new(reader.ReadVarInt32(), reader.ReadVarInt64());
}

/// <summary>What a <see cref="ScriptedNode"/> saw.</summary>
internal readonly record struct Seen(string What, TimeSpan At, NodeId From = default, int Number = 0, TimerTag Tag = default);

/// <summary>A node whose behaviour is given by delegates, and which records every input it receives.</summary>
internal sealed class ScriptedNode : INode
{
    public List<Seen> Log { get; } = [];

    public Action<NodeContext>? Started { get; init; }

    public Action<NodeContext, TimerTag>? Timer { get; init; }

    public Action<NodeContext, NodeId, Note>? Received { get; init; }

    public void OnStart(NodeContext context)
    {
        Log.Add(new Seen("start", context.TimeProvider.GetElapsedTime(0)));
        Started?.Invoke(context);
    }

    public void OnTimer(NodeContext context, TimerTag tag)
    {
        Log.Add(new Seen("timer", context.TimeProvider.GetElapsedTime(0), Tag: tag));
        Timer?.Invoke(context, tag);
    }

    public void OnMessage(NodeContext context, NodeId from, InboundMessage message)
    {
        var note = message.Read<Note>();
        Log.Add(new Seen("message", context.TimeProvider.GetElapsedTime(0), from, note.Number));
        Received?.Invoke(context, from, note);
    }

    public static void SendNote(NodeContext context, NodeId to, int number) =>
        context.Send(to, new Note(number, context.TimeProvider.GetTimestamp()));
}
