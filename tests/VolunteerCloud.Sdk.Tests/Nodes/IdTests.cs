using FsCheck;
using FsCheck.Xunit;

namespace VolunteerCloud.Sdk.Tests.Nodes;

public sealed class IdTests
{
    [Property]
    public bool TimerTag_packs_and_unpacks(DoNotSize<int> kind, DoNotSize<int> argument) =>
        TimerTag.FromInt64(new TimerTag(kind.Item, argument.Item).ToInt64()) == new TimerTag(kind.Item, argument.Item);

    [Fact]
    public void NodeId_prints_and_orders_by_number()
    {
        Assert.Equal("n42", new NodeId(42).ToString());
        Assert.True(new NodeId(3) < new NodeId(10));
        Assert.Equal(new[] { new NodeId(1), new NodeId(2), new NodeId(5) }, new[] { new NodeId(5), new NodeId(1), new NodeId(2) }.Order());
    }
}
