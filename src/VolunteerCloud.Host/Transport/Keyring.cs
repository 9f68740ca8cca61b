using System.Buffers.Binary;
using System.Security.Cryptography;

namespace VolunteerCloud.Host.Transport;

/// <summary>What opening a sealed frame found.</summary>
internal enum OpenResult
{
    /// <summary>Authentic: the frame is returned.</summary>
    Ok,

    /// <summary>Too short to be a sealed frame.</summary>
    Truncated,

    /// <summary>Sealed with a key this node does not hold.</summary>
    UnknownKey,

    /// <summary>The authentication tag does not match: tampered, or forged.</summary>
    Forged,
}

/// <summary>
/// The cluster's keys, as memberlist's keyring: every frame between volunteers is sealed with AES-GCM under the primary
/// key, its id (the first 4 bytes of the key's SHA-256) in the clear header; frames are opened with whichever installed
/// key the id names. Rotation without downtime: install the new key everywhere, make it primary everywhere, then remove
/// the old one. Sealed frame: <c>'V' 'E' keyId(u32 LE) nonce(12) ciphertext(frame ‖ sent-at ms, i64 LE) tag(16)</c>; the
/// header is authenticated too (associated data). Thread-safe.
/// </summary>
internal sealed class Keyring
{
    /// <summary>Bytes a sealed frame adds: header 6, nonce 12, timestamp 8, tag 16.</summary>
    public const int Overhead = 6 + NonceBytes + 8 + TagBytes;

    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private readonly Lock _lock = new();
    private readonly List<(uint Id, AesGcm Cipher)> _keys = [];

    /// <summary>Creates a keyring; the first key is the primary. No keys: frames go in the clear.</summary>
    /// <exception cref="ArgumentException">A key is not 16, 24 or 32 bytes, or two keys are the same.</exception>
    public Keyring(IEnumerable<byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys)
        {
            Install(key);
        }
    }

    /// <summary>Whether frames are sealed (some key is installed).</summary>
    public bool Enabled
    {
        get
        {
            lock (_lock)
            {
                return _keys.Count > 0;
            }
        }
    }

    /// <summary>The id of a key: the first 4 bytes of its SHA-256, little-endian.</summary>
    public static uint IdOf(byte[] key) => BinaryPrimitives.ReadUInt32LittleEndian(SHA256.HashData(key));

    /// <summary>The installed keys' ids, the primary first.</summary>
    public IReadOnlyList<uint> Ids
    {
        get
        {
            lock (_lock)
            {
                return [.. _keys.Select(k => k.Id)];
            }
        }
    }

    /// <summary>Installs a key (the primary if it is the first); opening frames sealed with it works from now on.</summary>
    public uint Install(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length is not (16 or 24 or 32))
        {
            throw new ArgumentException($"A key must be 16, 24 or 32 bytes (AES-128/192/256), not {key.Length}.", nameof(key));
        }

        var id = IdOf(key);
        lock (_lock)
        {
            if (_keys.Any(k => k.Id == id))
            {
                throw new ArgumentException($"Key {id:x8} is installed already.", nameof(key));
            }

            _keys.Add((id, new AesGcm(key, TagBytes)));
        }

        return id;
    }

    /// <summary>Makes an installed key the primary: frames are sealed with it from now on.</summary>
    /// <returns>False when no installed key has that id.</returns>
    public bool Use(uint id)
    {
        lock (_lock)
        {
            var at = _keys.FindIndex(k => k.Id == id);
            if (at < 0)
            {
                return false;
            }

            var key = _keys[at];
            _keys.RemoveAt(at);
            _keys.Insert(0, key);
            return true;
        }
    }

    /// <summary>Removes a key that is not the primary.</summary>
    /// <returns>False when no such key is installed.</returns>
    /// <exception cref="InvalidOperationException">It is the primary key.</exception>
    public bool Remove(uint id)
    {
        lock (_lock)
        {
            var at = _keys.FindIndex(k => k.Id == id);
            if (at < 0)
            {
                return false;
            }

            if (at == 0)
            {
                throw new InvalidOperationException("The primary key cannot be removed: make another key primary first.");
            }

            _keys[at].Cipher.Dispose();
            _keys.RemoveAt(at);
            return true;
        }
    }

    /// <summary>Seals a frame under the primary key, stamped with the time it is sent.</summary>
    public byte[] Seal(ReadOnlySpan<byte> frame, long sentAtMilliseconds)
    {
        lock (_lock)
        {
            if (_keys.Count == 0)
            {
                throw new InvalidOperationException("No key is installed.");
            }

            var (id, cipher) = _keys[0];
            var sealedFrame = new byte[Overhead + frame.Length];
            var span = sealedFrame.AsSpan();
            span[0] = (byte)'V';
            span[1] = (byte)'E';
            BinaryPrimitives.WriteUInt32LittleEndian(span[2..], id);
            var nonce = span.Slice(6, NonceBytes);
            RandomNumberGenerator.Fill(nonce);
            var plaintext = new byte[frame.Length + 8];
            frame.CopyTo(plaintext);
            BinaryPrimitives.WriteInt64LittleEndian(plaintext.AsSpan(frame.Length), sentAtMilliseconds);
            var ciphertext = span.Slice(6 + NonceBytes, plaintext.Length);
            var tag = span[^TagBytes..];
            cipher.Encrypt(nonce, plaintext, ciphertext, tag, span[..6]);
            return sealedFrame;
        }
    }

    /// <summary>Opens a sealed frame: the inner frame, when it was sent, and its nonce (for replay checks).</summary>
    public OpenResult Open(ReadOnlySpan<byte> sealedFrame, out byte[] frame, out long sentAtMilliseconds, out UInt128 nonce)
    {
        frame = [];
        sentAtMilliseconds = 0;
        nonce = default;
        if (sealedFrame.Length < Overhead || sealedFrame[0] != 'V' || sealedFrame[1] != 'E')
        {
            return OpenResult.Truncated;
        }

        var id = BinaryPrimitives.ReadUInt32LittleEndian(sealedFrame[2..]);
        AesGcm? cipher;
        lock (_lock)
        {
            cipher = _keys.FirstOrDefault(k => k.Id == id).Cipher;
        }

        if (cipher is null)
        {
            return OpenResult.UnknownKey;
        }

        var nonceBytes = sealedFrame.Slice(6, NonceBytes);
        var ciphertext = sealedFrame[(6 + NonceBytes)..^TagBytes];
        var plaintext = new byte[ciphertext.Length];
        try
        {
            lock (_lock)
            {
                cipher.Decrypt(nonceBytes, ciphertext, sealedFrame[^TagBytes..], plaintext, sealedFrame[..6]);
            }
        }
        catch (AuthenticationTagMismatchException)
        {
            return OpenResult.Forged;
        }
        catch (ObjectDisposedException)
        {
            return OpenResult.UnknownKey; // removed meanwhile
        }

        Span<byte> wide = stackalloc byte[16];
        nonceBytes.CopyTo(wide);
        nonce = BinaryPrimitives.ReadUInt128LittleEndian(wide);
        frame = plaintext[..^8];
        sentAtMilliseconds = BinaryPrimitives.ReadInt64LittleEndian(plaintext.AsSpan(plaintext.Length - 8));
        return OpenResult.Ok;
    }
}
