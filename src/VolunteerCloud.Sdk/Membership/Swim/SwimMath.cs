using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Swim;

/// <summary>memberlist's scaling formulas (util.go), where N counts every member known, this node included.</summary>
internal static class SwimMath
{
    /// <summary>retransmitLimit: RetransmitMult · ⌈log10(N + 1)⌉.</summary>
    public static int RetransmitLimit(int retransmitMult, int members) =>
        retransmitMult * (int)Math.Ceiling(Math.Log10(members + 1));

    /// <summary>pushPullScale: the interval, times ⌈log2 N − log2 32⌉ + 1 above 32 members.</summary>
    public static TimeSpan PushPullInterval(TimeSpan interval, int members) =>
        members <= 32 ? interval : interval * (Math.Ceiling(Math.Log2(members) - Math.Log2(32)) + 1);
}
