using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Host.Transport;

/// <summary>
/// Carries the nodes' datagrams between volunteers: UDP for those that fit <c>MaxUdpPayload</c> (one packet, no
/// fragmentation), one TCP connection per peer for larger ones (memberlist sends its push-pull state the same way).
/// Every frame says who sent it: <c>'V' 'C' kind sender(u32 LE) payload</c>; over TCP each frame is preceded by
/// its length (u32 LE). Kinds: 1 a node's datagram, 2 hello, 3 hello reply (how a joining node learns its seeds'
/// ids). Peers are addressed by node id; the address book learns addresses from hellos, from the source of UDP
/// frames and from the membership view. What cannot be delivered is dropped and counted, as UDP would.
/// </summary>
internal sealed partial class PeerTransport : IAsyncDisposable
{
    /// <summary>Bytes of a frame's header.</summary>
    public const int HeaderBytes = 7;

    private const byte KindDatagram = 1;
    private const byte KindHello = 2;
    private const byte KindHelloReply = 3;
    private const int MaxFrameBytes = HeaderBytes + WireFormat.MaxDatagramBytes;

    /// <summary>Inbound TCP connections at once; more are closed as they arrive ("put a limit on everything").</summary>
    internal const int MaxInboundConnections = 256;

    /// <summary>An inbound connection that brings no complete frame for this long is closed; senders reconnect before it.</summary>
    internal static readonly TimeSpan InboundIdleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>An outbound connection idle this long is reopened before the next frame, so no frame goes into a socket the peer closed.</summary>
    internal static readonly TimeSpan OutboundIdleReuse = TimeSpan.FromSeconds(45);

    private int _inbound;

    private readonly ConcurrentDictionary<NodeId, IPEndPoint> _book = new();
    private readonly ConcurrentDictionary<IPEndPoint, TaskCompletionSource<NodeId>> _hellos = new();
    private readonly ConcurrentDictionary<NodeId, Connection> _connections = new();
    private readonly Socket _udp;
    private readonly TcpListener _tcp;
    private readonly int _maxUdpPayload;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private Action<NodeId, byte[]> _deliver = (_, _) => { };
    private readonly Keyring _keyring;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _replayWindow;
    private readonly Dictionary<UInt128, long> _seen = [];
    private readonly Queue<(UInt128 Nonce, long At)> _seenOrder = new();
    private const int MaxSeen = 200_000;

    public PeerTransport(NodeId self, IPEndPoint bind, int maxUdpPayload, ILogger logger, Keyring? keyring = null, TimeProvider? clock = null, TimeSpan? replayWindow = null)
    {
        Self = self;
        _keyring = keyring ?? new Keyring([]);
        _clock = clock ?? TimeProvider.System;
        _replayWindow = replayWindow ?? TimeSpan.FromSeconds(30);
        _maxUdpPayload = maxUdpPayload;
        _logger = logger;
        _udp = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _udp.Bind(bind);
        _tcp = new TcpListener(bind);
        _tcp.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _tcp.Start(128);
        LocalEndPoint = (IPEndPoint)_udp.LocalEndPoint!;
    }

    public NodeId Self { get; }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Datagrams sent and received, and those dropped (unknown destination, send error, malformed frame).</summary>
    public long Sent, Received, DroppedUnknownPeer, DroppedSendError, DroppedMalformed;

    /// <summary>Inbound TCP connections closed at once because <see cref="MaxInboundConnections"/> were open.</summary>
    public long DroppedConnections;

    /// <summary>Frames dropped by the keyring's checks: tag mismatch (tampered or forged), a key this node lacks, in the clear while keys are set, replayed, or sent outside the replay window.</summary>
    public long DroppedForged, DroppedUnknownKey, DroppedPlaintext, DroppedReplayed, DroppedStale;

    /// <summary>The keyring (empty: frames in the clear).</summary>
    public Keyring Keyring => _keyring;

    /// <summary>Starts receiving; <paramref name="deliver"/> gets every node datagram (on a receive thread: it must only enqueue).</summary>
    public void Start(Action<NodeId, byte[]> deliver)
    {
        _deliver = deliver;
        _loops.Add(Task.Run(() => ReceiveUdpAsync(_stopping.Token)));
        _loops.Add(Task.Run(() => AcceptTcpAsync(_stopping.Token)));
    }

    /// <summary>Records where a node is.</summary>
    public void Learn(NodeId node, IPEndPoint endpoint)
    {
        if (node != Self)
        {
            _book[node] = endpoint;
        }
    }

    /// <summary>Where a node is, when known.</summary>
    public IPEndPoint? Lookup(NodeId node) => _book.TryGetValue(node, out var endpoint) ? endpoint : null;

    /// <summary>Asks a seed who it is: its node id, once it answers (hellos are repeated until then).</summary>
    public async Task<NodeId> HelloAsync(IPEndPoint seed, TimeSpan retry, CancellationToken cancellationToken)
    {
        var reply = _hellos.GetOrAdd(seed, _ => new TaskCompletionSource<NodeId>(TaskCreationOptions.RunContinuationsAsynchronously));
        while (true)
        {
            SendUdp(seed, KindHello, []);
            var done = await Task.WhenAny(reply.Task, Task.Delay(retry, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (done == reply.Task)
            {
                return await reply.Task.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends a node's datagram (best effort).</summary>
    public void Send(NodeId to, ReadOnlySpan<byte> datagram)
    {
        if (!_book.TryGetValue(to, out var endpoint))
        {
            Interlocked.Increment(ref DroppedUnknownPeer);
            return;
        }

        Interlocked.Increment(ref Sent);
        if (datagram.Length <= _maxUdpPayload)
        {
            SendUdp(endpoint, KindDatagram, datagram);
            return;
        }

        var inner = new byte[HeaderBytes + datagram.Length];
        WriteHeader(inner, KindDatagram);
        datagram.CopyTo(inner.AsSpan(HeaderBytes));
        var body = Protect(inner);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, body.Length);
        body.CopyTo(frame.AsSpan(4));
        var connection = _connections.GetOrAdd(to, _ => new Connection(endpoint, this));
        connection.Enqueue(frame);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _udp.Dispose();
        _tcp.Stop();
        foreach (var connection in _connections.Values)
        {
            connection.Dispose();
        }

        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stopping.Dispose();
    }

    private void WriteHeader(Span<byte> destination, byte kind)
    {
        destination[0] = (byte)'V';
        destination[1] = (byte)'C';
        destination[2] = kind;
        BinaryPrimitives.WriteInt32LittleEndian(destination[3..], Self.Value);
    }

    private void SendUdp(IPEndPoint endpoint, byte kind, ReadOnlySpan<byte> payload)
    {
        Span<byte> inner = stackalloc byte[HeaderBytes + payload.Length];
        WriteHeader(inner, kind);
        payload.CopyTo(inner[HeaderBytes..]);
        try
        {
            _udp.SendTo(_keyring.Enabled ? Protect(inner) : inner, SocketFlags.None, endpoint);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Interlocked.Increment(ref DroppedSendError);
        }
    }

    private async Task ReceiveUdpAsync(CancellationToken cancellationToken)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(MaxFrameBytes + Keyring.Overhead);
        EndPoint any = new IPEndPoint(_udp.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
            {
                continue; // an ICMP error for an earlier send, or an oversized datagram
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            OnRaw(buffer.AsSpan(0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint, fromUdp: true);
        }
    }

    /// <summary>Seals a frame when keys are set.</summary>
    private byte[] Protect(ReadOnlySpan<byte> frame) =>
        _keyring.Enabled ? _keyring.Seal(frame, _clock.GetUtcNow().ToUnixTimeMilliseconds()) : frame.ToArray();

    /// <summary>
    /// Checks a received frame against the keyring: with keys set, only frames sealed with an installed key, sent within
    /// the replay window, and never seen before get through; without keys, only frames in the clear.
    /// </summary>
    private void OnRaw(ReadOnlySpan<byte> raw, IPEndPoint? source, bool fromUdp)
    {
        var sealedFrame = raw.Length >= 2 && raw[0] == 'V' && raw[1] == 'E';
        if (!_keyring.Enabled)
        {
            if (sealedFrame)
            {
                Interlocked.Increment(ref DroppedUnknownKey);
                return;
            }

            OnFrame(raw, source, fromUdp);
            return;
        }

        if (!sealedFrame)
        {
            Interlocked.Increment(ref raw.Length >= 2 && raw[0] == 'V' && raw[1] == 'C' ? ref DroppedPlaintext : ref DroppedMalformed);
            return;
        }

        switch (_keyring.Open(raw, out var frame, out var sentAt, out var nonce))
        {
            case OpenResult.Truncated:
                Interlocked.Increment(ref DroppedMalformed);
                return;
            case OpenResult.UnknownKey:
                Interlocked.Increment(ref DroppedUnknownKey);
                return;
            case OpenResult.Forged:
                Interlocked.Increment(ref DroppedForged);
                return;
        }

        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (Math.Abs(now - sentAt) > _replayWindow.TotalMilliseconds)
        {
            Interlocked.Increment(ref DroppedStale);
            return;
        }

        lock (_seen)
        {
            // Forget nonces older than the window (a frame that old is refused as stale anyway), and bound the set.
            var horizon = now - (2 * (long)_replayWindow.TotalMilliseconds);
            while (_seenOrder.Count > 0 && (_seenOrder.Peek().At < horizon || _seenOrder.Count >= MaxSeen))
            {
                _seen.Remove(_seenOrder.Dequeue().Nonce);
            }

            if (!_seen.TryAdd(nonce, sentAt))
            {
                Interlocked.Increment(ref DroppedReplayed);
                return;
            }

            _seenOrder.Enqueue((nonce, now));
        }

        OnFrame(frame, source, fromUdp);
    }

    private void OnFrame(ReadOnlySpan<byte> frame, IPEndPoint? source, bool fromUdp)
    {
        if (frame.Length < HeaderBytes || frame[0] != 'V' || frame[1] != 'C')
        {
            Interlocked.Increment(ref DroppedMalformed);
            return;
        }

        var sender = BinaryPrimitives.ReadInt32LittleEndian(frame[3..]);
        if (sender <= 0)
        {
            Interlocked.Increment(ref DroppedMalformed);
            return;
        }

        var from = new NodeId(sender);
        switch (frame[2])
        {
            case KindDatagram:
                if (fromUdp && source is not null && from != Self)
                {
                    _book.TryAdd(from, source); // the membership view's address wins once known
                }

                Interlocked.Increment(ref Received);
                _deliver(from, frame[HeaderBytes..].ToArray());
                break;
            case KindHello when source is not null:
                Learn(from, source);
                SendUdp(source, KindHelloReply, []);
                break;
            case KindHelloReply when source is not null:
                Learn(from, source);
                if (_hellos.TryRemove(source, out var reply))
                {
                    reply.TrySetResult(from);
                }

                break;
            default:
                Interlocked.Increment(ref DroppedMalformed);
                break;
        }
    }

    private async Task AcceptTcpAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _tcp.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (Interlocked.Increment(ref _inbound) > MaxInboundConnections)
            {
                Interlocked.Decrement(ref _inbound);
                Interlocked.Increment(ref DroppedConnections);
                client.Dispose();
                continue;
            }

            _ = Task.Run(() => ReadTcpAsync(client, cancellationToken), CancellationToken.None);
        }
    }

    private async Task ReadTcpAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using (client)
        {
            var stream = client.GetStream();
            var length = new byte[4];
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    idle.CancelAfter(InboundIdleTimeout); // a frame must arrive, whole, within the timeout
                    await stream.ReadExactlyAsync(length, idle.Token).ConfigureAwait(false);
                    var size = BinaryPrimitives.ReadInt32LittleEndian(length);
                    if (size is < HeaderBytes or > MaxFrameBytes + Keyring.Overhead)
                    {
                        Interlocked.Increment(ref DroppedMalformed);
                        return; // a peer that breaks framing loses its connection
                    }

                    // The buffer is rented for one frame only: idle connections hold no frame-sized buffers.
                    var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(size);
                    try
                    {
                        await stream.ReadExactlyAsync(buffer.AsMemory(0, size), idle.Token).ConfigureAwait(false);
                        OnRaw(buffer.AsSpan(0, size), null, fromUdp: false);
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    }

                    idle.TryReset();
                }
            }
            catch (Exception e) when (e is IOException or EndOfStreamException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref _inbound);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "TCP connection to {Peer} failed: {Reason}")]
    private static partial void LogConnectionFailed(ILogger logger, IPEndPoint peer, string reason);

    /// <summary>One outbound TCP connection: frames are written in order by one writer; on an error the queue is dropped and the next frame reconnects.</summary>
    private sealed class Connection : IDisposable
    {
        private readonly System.Threading.Channels.Channel<byte[]> _queue =
            System.Threading.Channels.Channel.CreateBounded<byte[]>(new System.Threading.Channels.BoundedChannelOptions(256) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite, SingleReader = true });

        private readonly IPEndPoint _endpoint;
        private readonly PeerTransport _owner;

        public Connection(IPEndPoint endpoint, PeerTransport owner)
        {
            _endpoint = endpoint;
            _owner = owner;
            _ = Task.Run(WriteAsync);
        }

        public void Enqueue(byte[] frame)
        {
            if (!_queue.Writer.TryWrite(frame))
            {
                Interlocked.Increment(ref _owner.DroppedSendError);
            }
        }

        public void Dispose() => _queue.Writer.TryComplete();

        private async Task WriteAsync()
        {
            var token = _owner._stopping.Token;
            TcpClient? client = null;
            var lastWrite = 0L;
            try
            {
                await foreach (var frame in _queue.Reader.ReadAllAsync(token).ConfigureAwait(false))
                {
                    try
                    {
                        if (client is not null && _owner._clock.GetElapsedTime(lastWrite) > OutboundIdleReuse)
                        {
                            client.Dispose(); // the peer closes idle connections: open a fresh one rather than write into a closed one
                            client = null;
                        }

                        if (client is null)
                        {
                            client = new TcpClient(_endpoint.AddressFamily) { NoDelay = true };
                            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                            timeout.CancelAfter(TimeSpan.FromSeconds(2));
                            await client.ConnectAsync(_endpoint, timeout.Token).ConfigureAwait(false);
                        }

                        await client.GetStream().WriteAsync(frame, token).ConfigureAwait(false);
                        lastWrite = _owner._clock.GetTimestamp();
                    }
                    catch (Exception e) when (e is IOException or SocketException or OperationCanceledException && !token.IsCancellationRequested)
                    {
                        LogConnectionFailed(_owner._logger, _endpoint, e.Message);
                        Interlocked.Increment(ref _owner.DroppedSendError);
                        client?.Dispose();
                        client = null;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                client?.Dispose();
            }
        }
    }
}
