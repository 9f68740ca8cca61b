namespace VolunteerCloud.Simulator.Kernel;

/// <summary>Objects addressed by a reusable integer slot, so that queued events carry numbers, not references.</summary>
internal sealed class SlotTable<T>
    where T : class
{
    private readonly List<T?> _items = [];
    private readonly Stack<int> _free = new();

    public int Add(T item)
    {
        if (_free.TryPop(out var slot))
        {
            _items[slot] = item;
            return slot;
        }

        _items.Add(item);
        return _items.Count - 1;
    }

    public bool TryGet(int slot, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? item)
    {
        item = slot >= 0 && slot < _items.Count ? _items[slot] : null;
        return item is not null;
    }

    /// <summary>Returns the item in <paramref name="slot"/> and frees the slot.</summary>
    public T Take(int slot)
    {
        var item = _items[slot] ?? throw new InvalidOperationException($"Slot {slot} is empty.");
        Remove(slot);
        return item;
    }

    public void Remove(int slot)
    {
        _items[slot] = null;
        _free.Push(slot);
    }
}
