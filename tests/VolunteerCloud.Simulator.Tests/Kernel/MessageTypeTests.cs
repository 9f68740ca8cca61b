using System.Reflection;
using VolunteerCloud.Simulator.Workloads.Averaging;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Simulator.Tests.Kernel;

/// <summary>Every message type of the Sdk and the Simulator round-trips through the wire format, and no two share a type number.</summary>
public sealed class MessageTypeTests
{
    /// <summary>Sample values per message type: extremes and ordinary values. A new message type must add its own.</summary>
    private static readonly Dictionary<Type, object[]> Samples = new()
    {
        [typeof(AverageRequest)] = [new AverageRequest(0), new AverageRequest(-1.5e300), new AverageRequest(double.Epsilon), new AverageRequest(5_000.5)],
        [typeof(AverageReply)] = [new AverageReply(1), new AverageReply(double.MaxValue), new AverageReply(-0.0)],
    };

    private static IEnumerable<Type> AllMessageTypes() =>
        new[] { typeof(WireFormat).Assembly, typeof(Simulation).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => !t.IsAbstract && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IWireMessage<>)));

    [Fact]
    public void Every_message_type_has_samples_here()
    {
        Assert.Equal(AllMessageTypes().OrderBy(t => t.FullName), Samples.Keys.OrderBy(t => t.FullName));
    }

    [Fact]
    public void Every_message_type_round_trips()
    {
        var roundTrip = typeof(MessageTypeTests).GetMethod(nameof(RoundTrip), BindingFlags.NonPublic | BindingFlags.Static)!;
        foreach (var (type, values) in Samples)
        {
            foreach (var value in values)
            {
                // Equal values, and the very same bytes when encoded again (so -0.0 stays -0.0).
                var (back, same) = ((object, bool))roundTrip.MakeGenericMethod(type).Invoke(null, [value])!;
                Assert.Equal(value, back);
                Assert.True(same, $"{value} re-encodes differently");
            }
        }
    }

    [Fact]
    public void Message_type_numbers_are_unique()
    {
        var numbers = AllMessageTypes()
            .Select(t => (MessageType)t.GetProperty("MessageType", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!)
            .ToList();

        Assert.Equal(numbers.Count, numbers.Distinct().Count());
        Assert.DoesNotContain(new MessageType(0), numbers);
    }

    private static (object, bool) RoundTrip<T>(T message)
        where T : IWireMessage<T>
    {
        var bytes = WireFormat.ToArray(message);
        var back = WireFormat.Decode(bytes).Read<T>();
        return (back, WireFormat.ToArray(back).AsSpan().SequenceEqual(bytes));
    }
}
