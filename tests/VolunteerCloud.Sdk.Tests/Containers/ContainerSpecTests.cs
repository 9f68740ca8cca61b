using VolunteerCloud.Containers;

namespace VolunteerCloud.Sdk.Tests.Containers;

public sealed class ContainerSpecTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(-1, 1)]
    [InlineData(double.NaN, 1)]
    [InlineData(double.PositiveInfinity, 1)]
    [InlineData(1, 0)]
    [InlineData(1, -5)]
    public void A_spec_without_positive_limits_is_refused(double cpus, long memory)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ContainerSpec("web:1", new ResourceAmount(cpus, memory)));
        Assert.Contains("positive CPU limit and a positive memory limit", error.Message);
    }

    [Fact]
    public void A_spec_needs_an_image()
    {
        Assert.Throws<ArgumentException>(() => new ContainerSpec(" ", new ResourceAmount(1, 1)));
    }

    [Fact]
    public void Resource_amounts_add_subtract_and_compare()
    {
        var a = new ResourceAmount(1.5, 512);
        var b = new ResourceAmount(0.5, 256);
        Assert.Equal(new ResourceAmount(2, 768), a + b);
        Assert.Equal(new ResourceAmount(1, 256), a - b);
        Assert.True(b.FitsWithin(a));
        Assert.False(a.FitsWithin(b));
        Assert.False(new ResourceAmount(0.5, 1024).FitsWithin(a));
        Assert.True((new ResourceAmount(0.1, 0) + new ResourceAmount(0.2, 0)).FitsWithin(new ResourceAmount(0.3, 0))); // float rounding tolerated
    }

    [Fact]
    public void Without_an_engine_nothing_is_admitted()
    {
        var none = NoContainerRuntime.Instance;
        Assert.False(none.TryRun(new ContainerSpec("web:1", new ResourceAmount(1, 1)), out _));
        Assert.Equal(ResourceAmount.Zero, ((IContainerRuntime)none).Available);
        Assert.Equal(ContainerStatus.Unknown, none.GetStatus(new ContainerId(1)));
        Assert.False(none.Stop(new ContainerId(1)));
        Assert.Equal("c7", new ContainerId(7).ToString());
    }
}
