using FsCheck;
using FsCheck.Xunit;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Sdk.Tests.Wire;

public sealed class WirePrimitiveTests
{
    private delegate void Write(ref WireWriter writer);

    private delegate T Read<out T>(ref WireReader reader);

    private static T RoundTrip<T>(Write write, Read<T> read, out int length)
    {
        var buffer = new byte[1024];
        var writer = new WireWriter(buffer);
        write(ref writer);
        length = writer.BytesWritten;
        var reader = new WireReader(buffer.AsSpan(0, length));
        var value = read(ref reader);
        reader.EnsureEnd();
        return value;
    }

    // FsCheck sizes integers (|value| ≤ 100 by default), which would only ever test one- and two-byte varints:
    // these take all 64 bits (DoNotSize) and drop a random number of the high ones, so every encoded length is tried.
    private static ulong Wide(DoNotSize<ulong> bits, byte drop) => bits.Item >> (drop % 64);

    private static long WideSigned(DoNotSize<ulong> bits, byte drop) => (long)Wide(bits, drop) * ((drop & 0x40) == 0 ? 1 : -1);

    [Property]
    public bool VarUInt64_round_trips(DoNotSize<ulong> bits, byte drop) =>
        RoundTrip((ref WireWriter w) => w.WriteVarUInt64(Wide(bits, drop)), (ref WireReader r) => r.ReadVarUInt64(), out _) == Wide(bits, drop);

    [Property]
    public bool VarInt64_round_trips(DoNotSize<ulong> bits, byte drop) =>
        RoundTrip((ref WireWriter w) => w.WriteVarInt64(WideSigned(bits, drop)), (ref WireReader r) => r.ReadVarInt64(), out _) == WideSigned(bits, drop);

    [Property]
    public bool VarInt32_round_trips(DoNotSize<int> bits, byte drop)
    {
        var value = bits.Item >> (drop % 32);
        return RoundTrip((ref WireWriter w) => w.WriteVarInt32(value), (ref WireReader r) => r.ReadVarInt32(), out _) == value;
    }

    [Fact]
    public void Wide_values_cover_every_varint_length()
    {
        // The generator above must reach every length from 1 to 10 bytes, or the round trips prove little.
        var lengths = new HashSet<int>();
        var random = new Random(1);
        for (var i = 0; i < 2_000; i++)
        {
            var value = Wide(DoNotSize<ulong>.NewDoNotSize(((ulong)random.NextInt64() << 1) | (uint)random.Next(2)), (byte)random.Next(256));
            RoundTrip((ref WireWriter w) => w.WriteVarUInt64(value), (ref WireReader r) => r.ReadVarUInt64(), out var length);
            lengths.Add(length);
        }

        Assert.Equal(Enumerable.Range(1, 10), lengths.Order());
    }

    [Property]
    public bool Double_round_trips_bit_for_bit(DoNotSize<long> raw)
    {
        var bits = raw.Item;
        var value = BitConverter.Int64BitsToDouble(bits);
        var back = RoundTrip((ref WireWriter w) => w.WriteDouble(value), (ref WireReader r) => r.ReadDouble(), out _);
        return BitConverter.DoubleToInt64Bits(back) == bits;
    }

    [Property]
    public bool Fixed_width_integers_round_trip(DoNotSize<ushort> wa, DoNotSize<uint> wb, DoNotSize<ulong> wc, DoNotSize<long> wd)
    {
        var (a, b, c, d) = (wa.Item, wb.Item, wc.Item, wd.Item);
        var buffer = new byte[64];
        var writer = new WireWriter(buffer);
        writer.WriteUInt16(a);
        writer.WriteUInt32(b);
        writer.WriteUInt64(c);
        writer.WriteInt64(d);
        var reader = new WireReader(buffer.AsSpan(0, writer.BytesWritten));
        return reader.ReadUInt16() == a && reader.ReadUInt32() == b && reader.ReadUInt64() == c && reader.ReadInt64() == d && reader.Remaining == 0;
    }

    [Property]
    public void Strings_round_trip_and_lone_surrogates_are_refused(NonNull<string> text)
    {
        if (IsValidUtf16(text.Get))
        {
            Assert.Equal(text.Get, RoundTrip((ref WireWriter w) => w.WriteString(text.Get), (ref WireReader r) => r.ReadString(), out _));
        }
        else
        {
            Assert.Throws<WireFormatException>(() => RoundTrip((ref WireWriter w) => w.WriteString(text.Get), (ref WireReader r) => r.ReadString(), out _));
        }
    }

    private static bool IsValidUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    [Fact]
    public void A_lone_surrogate_cannot_be_written()
    {
        Assert.Throws<WireFormatException>(() => new WireWriter(new byte[16]).WriteString("a\uD800b"));
    }

    [Property]
    public bool Byte_strings_round_trip(byte[] bytes)
    {
        var buffer = new byte[bytes.Length + 8];
        var writer = new WireWriter(buffer);
        writer.WriteBytes(bytes);
        var reader = new WireReader(buffer.AsSpan(0, writer.BytesWritten));
        return reader.ReadBytes().SequenceEqual(bytes);
    }

    [Property]
    public bool Node_ids_and_durations_round_trip(DoNotSize<int> rawNode, DoNotSize<ulong> bits, byte drop)
    {
        var node = rawNode.Item & int.MaxValue;
        var ticks = WideSigned(bits, drop);
        var buffer = new byte[32];
        var writer = new WireWriter(buffer);
        writer.WriteNodeId(new NodeId(node));
        writer.WriteTimeSpan(TimeSpan.FromTicks(ticks));
        var reader = new WireReader(buffer.AsSpan(0, writer.BytesWritten));
        return reader.ReadNodeId() == new NodeId(node) && reader.ReadTimeSpan().Ticks == ticks;
    }

    [Theory]
    [InlineData(0UL, 1)]
    [InlineData(127UL, 1)]
    [InlineData(128UL, 2)]
    [InlineData(16_383UL, 2)]
    [InlineData(16_384UL, 3)]
    [InlineData(ulong.MaxValue, 10)]
    public void Varints_take_seven_bits_per_byte(ulong value, int expectedBytes)
    {
        Assert.Equal(value, RoundTrip((ref WireWriter w) => w.WriteVarUInt64(value), (ref WireReader r) => r.ReadVarUInt64(), out var length));
        Assert.Equal(expectedBytes, length);
    }

    [Property]
    public void Every_truncation_of_a_record_is_refused_with_WireFormatException(long a, NonNull<string> b, double c)
    {
        var buffer = new byte[4096];
        var writer = new WireWriter(buffer);
        writer.WriteVarInt64(a);
        writer.WriteString(b.Get);
        writer.WriteDouble(c);
        var length = writer.BytesWritten;
        for (var cut = 0; cut < length; cut++)
        {
            var exception = Record.Exception(() =>
            {
                var reader = new WireReader(buffer.AsSpan(0, cut));
                reader.ReadVarInt64();
                reader.ReadString();
                reader.ReadDouble();
            });
            Assert.IsType<WireFormatException>(exception);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02 })]
    [InlineData(new byte[] { 0x80, 0x00 })]
    [InlineData(new byte[] { 0x81, 0x00 })]
    [InlineData(new byte[] { 0xFF, 0x80, 0x00 })]
    public void Overflowing_or_non_minimal_varints_are_refused(byte[] bytes)
    {
        Assert.Throws<WireFormatException>(() =>
        {
            var reader = new WireReader(bytes);
            reader.ReadVarUInt64();
        });
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x1F })]
    public void A_32_bit_varint_takes_at_most_five_bytes_and_32_bits(byte[] bytes)
    {
        Assert.Throws<WireFormatException>(() =>
        {
            var reader = new WireReader(bytes);
            reader.ReadVarUInt32();
        });
    }

    [Property]
    public bool Every_value_has_exactly_one_encoding(DoNotSize<ulong> bits, byte drop)
    {
        var value = Wide(bits, drop);
        // Any other byte string that decodes must decode to a different value: check the one-byte-longer
        // padding of the canonical form, the classic overlong encoding.
        var buffer = new byte[16];
        var writer = new WireWriter(buffer);
        writer.WriteVarUInt64(value);
        var length = writer.BytesWritten;
        if (length == 10)
        {
            return true;
        }

        buffer[length - 1] |= 0x80;
        buffer[length] = 0x00;
        try
        {
            new WireReader(buffer.AsSpan(0, length + 1)).ReadVarUInt64();
            return false;
        }
        catch (WireFormatException)
        {
            return true;
        }
    }

    [Fact]
    public void Malformed_primitives_are_refused()
    {
        Assert.Throws<WireFormatException>(() => new WireReader([2]).ReadBoolean());
        Assert.Throws<WireFormatException>(() => new WireReader([0x80, 0x80, 0x80, 0x80, 0x10]).ReadVarUInt32());
        Assert.Throws<WireFormatException>(() => new WireReader([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]).ReadNodeId());
        Assert.Throws<WireFormatException>(() => new WireReader([2, 0xC3, 0x28]).ReadString());
        Assert.Throws<WireFormatException>(() => new WireReader([5, 1, 2]).ReadBytes());
    }

    [Fact]
    public void Counts_are_checked_against_the_limit_and_the_bytes_left()
    {
        Assert.Equal(2, new WireReader([2, 0, 0]).ReadCount(maximum: 10));
        Assert.Throws<WireFormatException>(() => new WireReader([11, 0]).ReadCount(maximum: 10));
        Assert.Throws<WireFormatException>(() => new WireReader([0xFF, 0xFF, 0x03, 0]).ReadCount(maximum: 1_000_000));
        Assert.Throws<WireFormatException>(() => new WireReader([3, 0, 0, 0, 0, 0]).ReadCount(maximum: 10, minimumElementBytes: 4));
    }

    [Fact]
    public void A_writer_refuses_to_overflow_its_buffer()
    {
        var exception = Assert.Throws<WireFormatException>(() =>
        {
            var writer = new WireWriter(new byte[4]);
            writer.WriteUInt64(1);
        });
        Assert.Contains("4-byte buffer", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_node_id_cannot_be_written()
    {
        Assert.Throws<WireFormatException>(() => new WireWriter(new byte[8]).WriteNodeId(new NodeId(-1)));
    }
}
