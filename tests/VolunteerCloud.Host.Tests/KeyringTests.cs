using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using VolunteerCloud.Host.Transport;

namespace VolunteerCloud.Host.Tests;

public sealed class KeyringTests
{
    private static readonly byte[] K1 = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] K2 = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void A_sealed_frame_opens_with_the_key_and_carries_its_send_time()
    {
        var ring = new Keyring([K1]);
        var frame = RandomNumberGenerator.GetBytes(300);
        var sealedFrame = ring.Seal(frame, 1_234_567);
        Assert.Equal(frame.Length + Keyring.Overhead, sealedFrame.Length);
        Assert.Equal(OpenResult.Ok, ring.Open(sealedFrame, out var opened, out var sentAt, out _));
        Assert.Equal(frame, opened);
        Assert.Equal(1_234_567, sentAt);
        Assert.NotEqual(ring.Seal(frame, 1), ring.Seal(frame, 1)); // a fresh nonce every time
    }

    [Fact]
    public void Changing_any_byte_of_a_sealed_frame_is_detected()
    {
        var ring = new Keyring([K1]);
        var sealedFrame = ring.Seal(RandomNumberGenerator.GetBytes(40), 1);
        for (var i = 0; i < sealedFrame.Length; i++)
        {
            var tampered = (byte[])sealedFrame.Clone();
            tampered[i] ^= 0x01;
            var result = ring.Open(tampered, out _, out _, out _);
            Assert.True(result != OpenResult.Ok, $"byte {i} changed and the frame still opened");
        }

        Assert.Equal(OpenResult.Truncated, ring.Open(sealedFrame.AsSpan(0, Keyring.Overhead - 1), out _, out _, out _));
        Assert.Equal(OpenResult.Forged, ring.Open(sealedFrame.AsSpan(0, sealedFrame.Length - 1), out _, out _, out _));
    }

    [Fact]
    public void A_frame_sealed_with_another_key_is_refused_and_keys_rotate_without_a_gap()
    {
        var a = new Keyring([K1]);
        var b = new Keyring([K2]);
        Assert.Equal(OpenResult.UnknownKey, b.Open(a.Seal([1, 2, 3], 1), out _, out _, out _));

        // Rotation: install K2 on a (both open), make it primary on a, remove K1.
        Assert.Equal(Keyring.IdOf(K2), a.Install(K2));
        Assert.Equal(OpenResult.Ok, a.Open(b.Seal([4], 1), out _, out _, out _));
        Assert.True(a.Use(Keyring.IdOf(K2)));
        Assert.Equal(OpenResult.Ok, b.Open(a.Seal([5], 1), out _, out _, out _));
        Assert.Throws<InvalidOperationException>(() => a.Remove(Keyring.IdOf(K2)));
        Assert.True(a.Remove(Keyring.IdOf(K1)));
        Assert.Equal([Keyring.IdOf(K2)], a.Ids);
        Assert.Throws<ArgumentException>(() => a.Install(K2));
        Assert.Throws<ArgumentException>(() => a.Install(new byte[20]));
    }

    [Fact]
    public async Task Peers_with_the_key_talk_and_replayed_stale_plaintext_and_foreign_frames_are_dropped_and_counted()
    {
        var clock = TimeProvider.System;
        var bPort = Loopback.FreePort();
        await using var a = new PeerTransport(new NodeId(11), new IPEndPoint(IPAddress.Loopback, 0), 1_400, NullLogger.Instance, new Keyring([K1]), clock);
        await using var b = new PeerTransport(new NodeId(22), new IPEndPoint(IPAddress.Loopback, bPort), 1_400, NullLogger.Instance, new Keyring([K1]), clock);
        await using var stranger = new PeerTransport(new NodeId(33), new IPEndPoint(IPAddress.Loopback, 0), 1_400, NullLogger.Instance, new Keyring([K2]), clock);
        var atB = new BlockingCollection<(NodeId, byte[])>();
        a.Start((_, _) => { });
        b.Start((from, bytes) => atB.Add((from, bytes)));
        stranger.Start((_, _) => { });
        var bEndpoint = new IPEndPoint(IPAddress.Loopback, bPort);

        Assert.Equal(new NodeId(22), await a.HelloAsync(bEndpoint, TimeSpan.FromMilliseconds(200), new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token));
        a.Send(new NodeId(22), [7, 7, 7]);
        a.Send(new NodeId(22), new byte[20_000]); // over TCP, sealed too
        Assert.True(atB.TryTake(out var first, TimeSpan.FromSeconds(10)));
        Assert.True(atB.TryTake(out var second, TimeSpan.FromSeconds(10)));
        Assert.Equal([3, 20_000], new[] { first.Item2.Length, second.Item2.Length }.Order());

        // A node without the key cannot even learn who b is.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stranger.HelloAsync(bEndpoint, TimeSpan.FromMilliseconds(200), new CancellationTokenSource(TimeSpan.FromSeconds(1)).Token));

        // Raw frames: a replay of a valid frame, a stale one, one in the clear.
        var inner = new byte[PeerTransport.HeaderBytes + 1];
        inner[0] = (byte)'V';
        inner[1] = (byte)'C';
        inner[2] = 1;
        BinaryPrimitives.WriteInt32LittleEndian(inner.AsSpan(3), 11);
        var ring = new Keyring([K1]);
        var valid = ring.Seal(inner, clock.GetUtcNow().ToUnixTimeMilliseconds());
        var stale = ring.Seal(inner, clock.GetUtcNow().AddMinutes(-5).ToUnixTimeMilliseconds());
        using var udp = new UdpClient();
        await udp.SendAsync(valid, bEndpoint);
        await udp.SendAsync(valid, bEndpoint);
        await udp.SendAsync(stale, bEndpoint);
        await udp.SendAsync(inner, bEndpoint);
        Assert.True(atB.TryTake(out _, TimeSpan.FromSeconds(10))); // the first copy of the valid frame
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while ((Interlocked.Read(ref b.DroppedReplayed) < 1 || Interlocked.Read(ref b.DroppedStale) < 1 || Interlocked.Read(ref b.DroppedPlaintext) < 1) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal((1, 1, 1), (Interlocked.Read(ref b.DroppedReplayed), Interlocked.Read(ref b.DroppedStale), Interlocked.Read(ref b.DroppedPlaintext)));
        Assert.True(Interlocked.Read(ref b.DroppedUnknownKey) >= 1); // the stranger's hellos
        Assert.Empty(atB);
    }
}
