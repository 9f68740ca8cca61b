using System.Collections;
using System.Collections.Immutable;

namespace VolunteerCloud.Membership;

/// <summary>
/// An immutable snapshot of one node's membership view: every member it knows, sorted by id, and a version
/// that grows with every change.
/// </summary>
public sealed class MembershipView : IReadOnlyList<Member>
{
    private readonly ImmutableArray<Member> _members;

    /// <summary>Creates a view from members (in any order; each id at most once).</summary>
    /// <exception cref="ArgumentException">An id appears twice.</exception>
    public MembershipView(NodeId self, long version, IEnumerable<Member> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        Self = self;
        Version = version;
        var sorted = members.ToImmutableArray().Sort(static (a, b) => a.Id.CompareTo(b.Id));
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].Id == sorted[i - 1].Id)
            {
                throw new ArgumentException($"Member {sorted[i].Id} appears twice.", nameof(members));
            }
        }

        _members = sorted;
    }

    /// <summary>The node whose view this is.</summary>
    public NodeId Self { get; }

    /// <summary>Grows by one with every change to the view.</summary>
    public long Version { get; }

    /// <summary>The members, sorted by id.</summary>
    public ImmutableArray<Member> Members => _members;

    /// <inheritdoc />
    public int Count => _members.Length;

    /// <inheritdoc />
    public Member this[int index] => _members[index];

    /// <summary>The members believed alive (suspects excluded), sorted by id.</summary>
    public IEnumerable<Member> Alive => _members.Where(m => m.State == MemberState.Alive);

    /// <summary>How many members are in <paramref name="state"/>.</summary>
    public int CountIn(MemberState state)
    {
        var count = 0;
        foreach (var member in _members)
        {
            if (member.State == state)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Finds a member by id (binary search).</summary>
    public bool TryGetMember(NodeId id, out Member member)
    {
        int low = 0, high = _members.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var c = _members[mid].Id.CompareTo(id);
            if (c == 0)
            {
                member = _members[mid];
                return true;
            }

            if (c < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        member = default;
        return false;
    }

    /// <summary>Whether this node believes <paramref name="id"/> is alive.</summary>
    public bool IsAlive(NodeId id) => TryGetMember(id, out var member) && member.State == MemberState.Alive;

    /// <inheritdoc />
    public IEnumerator<Member> GetEnumerator() => ((IEnumerable<Member>)_members).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
