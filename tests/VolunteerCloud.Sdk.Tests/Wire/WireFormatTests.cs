using VolunteerCloud.Wire;

namespace VolunteerCloud.Sdk.Tests.Wire;

public sealed class WireFormatTests
{
    private readonly record struct Probe(int Number, string Text) : IWireMessage<Probe>
    {
        public static MessageType MessageType => new(300);

        public void Write(ref WireWriter writer)
        {
            writer.WriteVarInt32(Number);
            writer.WriteString(Text);
        }

        public static Probe Read(ref WireReader reader) => new(reader.ReadVarInt32(), reader.ReadString());
    }

    private readonly record struct Other(byte Value) : IWireMessage<Other>
    {
        public static MessageType MessageType => new(301);

        public void Write(ref WireWriter writer) => writer.WriteByte(Value);

        public static Other Read(ref WireReader reader) => new(reader.ReadByte());
    }

    [Fact]
    public void The_envelope_is_version_then_type_then_body()
    {
        var bytes = WireFormat.ToArray(new Probe(-1, "hi"));

        // Version 1, type 300 as LEB128 (0xAC 0x02), zig-zag -1 = 1, length 2, "hi".
        Assert.Equal(new byte[] { 1, 0xAC, 0x02, 1, 2, (byte)'h', (byte)'i' }, bytes);
    }

    [Fact]
    public void A_message_round_trips_through_its_envelope()
    {
        var bytes = WireFormat.ToArray(new Probe(123_456, "volunteer"));
        var inbound = WireFormat.Decode(bytes);

        Assert.Equal(Probe.MessageType, inbound.Type);
        Assert.Equal(bytes.Length, inbound.DatagramBytes);
        Assert.True(inbound.Is<Probe>());
        Assert.False(inbound.Is<Other>());
        Assert.Equal(new Probe(123_456, "volunteer"), inbound.Read<Probe>());
    }

    [Fact]
    public void Reading_as_the_wrong_type_is_refused()
    {
        var bytes = WireFormat.ToArray(new Other(7));
        var exception = Assert.Throws<WireFormatException>(() => WireFormat.Decode(bytes).Read<Probe>());
        Assert.Contains("msg301", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trailing_bytes_are_refused()
    {
        var bytes = WireFormat.ToArray(new Other(7)).Append((byte)0).ToArray();
        Assert.Throws<WireFormatException>(() => WireFormat.Decode(bytes).Read<Other>());
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 2, 1 })]
    [InlineData(new byte[] { 0, 1 })]
    [InlineData(new byte[] { 1 })]
    [InlineData(new byte[] { 1, 0 })]
    [InlineData(new byte[] { 1, 0x80, 0x80, 0x04 })]
    public void Bad_envelopes_are_refused(byte[] datagram)
    {
        Assert.Throws<WireFormatException>(() => WireFormat.Decode(datagram));
    }

    [Fact]
    public void Oversized_datagrams_are_refused()
    {
        var datagram = new byte[WireFormat.MaxDatagramBytes + 1];
        datagram[0] = WireFormat.Version;
        datagram[1] = 1;
        Assert.Throws<WireFormatException>(() => WireFormat.Decode(datagram));
    }

    [Fact]
    public void A_message_that_does_not_fit_the_destination_is_refused()
    {
        Assert.Throws<WireFormatException>(() => WireFormat.Encode(new Probe(1, new string('x', 100)), new byte[50]));
    }
}
