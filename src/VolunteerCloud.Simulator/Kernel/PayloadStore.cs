using System.Numerics;

namespace VolunteerCloud.Simulator.Kernel;

/// <summary>
/// Holds the bytes of messages in flight, addressed by slot number so that queued events carry no object
/// references. Slots and their buffers are reused: after warm-up, sending a message allocates nothing.
/// </summary>
internal sealed class PayloadStore
{
    private const int MinimumBufferBytes = 64;

    private byte[]?[] _buffers = new byte[]?[64];
    private int[] _lengths = new int[64];
    private int[] _free = new int[64];
    private int _freeCount;
    private int _slotCount;

    /// <summary>How many payloads are in flight.</summary>
    public int InFlight => _slotCount - _freeCount;

    /// <summary>Copies <paramref name="bytes"/> into a slot and returns the slot.</summary>
    public int Store(ReadOnlySpan<byte> bytes)
    {
        var slot = _freeCount > 0 ? _free[--_freeCount] : NewSlot();
        var buffer = _buffers[slot];
        if (buffer is null || buffer.Length < bytes.Length)
        {
            buffer = new byte[Math.Max(MinimumBufferBytes, (int)BitOperations.RoundUpToPowerOf2((uint)bytes.Length))];
            _buffers[slot] = buffer;
        }

        bytes.CopyTo(buffer);
        _lengths[slot] = bytes.Length;
        return slot;
    }

    /// <summary>The bytes held in <paramref name="slot"/>.</summary>
    public ReadOnlySpan<byte> Get(int slot) => new(_buffers[slot], 0, _lengths[slot]);

    /// <summary>Returns <paramref name="slot"/> for reuse.</summary>
    public void Release(int slot)
    {
        if (_freeCount == _free.Length)
        {
            Array.Resize(ref _free, _free.Length * 2);
        }

        _free[_freeCount++] = slot;
    }

    private int NewSlot()
    {
        if (_slotCount == _buffers.Length)
        {
            Array.Resize(ref _buffers, _buffers.Length * 2);
            Array.Resize(ref _lengths, _lengths.Length * 2);
        }

        return _slotCount++;
    }
}
