using Microsoft.Extensions.DependencyInjection;
using VolunteerCloud.Availability;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Membership;
using VolunteerCloud.Placement;
using VolunteerCloud.Strategies;

namespace VolunteerCloud.Sdk.Tests.Membership;

/// <summary>Strategy names live in one place: the catalog's keys are the strategies' own names, and choosing by name gives the strategy of that name.</summary>
public sealed class StrategyByNameTests
{
    [Fact]
    public void Every_catalog_entry_makes_a_strategy_of_its_own_name()
    {
        Assert.All(StrategyCatalog.Placements, entry => Assert.Equal(entry.Key, entry.Value().Name));
        Assert.All(StrategyCatalog.ChurnHandlers, entry => Assert.Equal(entry.Key, entry.Value().Name));
    }

    [Fact]
    public void Choosing_by_name_registers_the_strategy_of_that_name_and_defaults_for_the_rest()
    {
        foreach (var name in StrategyCatalog.Placements.Keys)
        {
            using var provider = new ServiceCollection().AddVolunteerCloud(vc => vc.UsePlacement(name)).BuildServiceProvider();
            Assert.Equal(name, provider.GetRequiredService<IPlacementStrategyFactory>().Create().Name);
            Assert.Equal(StrategyNames.Reactive, provider.GetRequiredService<IChurnHandlerFactory>().Create().Name);
        }

        foreach (var name in StrategyCatalog.ChurnHandlers.Keys)
        {
            using var provider = new ServiceCollection().AddVolunteerCloud(vc => vc.UseChurnHandler(name, TimeSpan.FromSeconds(9))).BuildServiceProvider();
            var handler = provider.GetRequiredService<IChurnHandlerFactory>().Create();
            Assert.Equal((name, TimeSpan.FromSeconds(9)), (handler.Name, handler.GracePeriod));
        }

        foreach (var name in StrategyByNameExtensions.MembershipNames)
        {
            using var provider = new ServiceCollection().AddVolunteerCloud(vc => vc.UseMembership(name)).BuildServiceProvider();
            Assert.Equal(name, provider.GetRequiredService<IMembershipProtocolFactory>().Name);
        }
    }

    [Fact]
    public void Availability_aware_placement_by_name_shares_its_residual_uptime_model_with_the_churn_handlers()
    {
        using var provider = new ServiceCollection().AddVolunteerCloud(vc => vc.UseAvailabilityAwarePlacement(populationShape: 0.5, populationScaleHours: 10)).BuildServiceProvider();
        var placement = Assert.IsType<AvailabilityAwarePlacement>(provider.GetRequiredService<IPlacementStrategyFactory>().Create());
        Assert.Same(provider.GetRequiredService<ResidualUptimeEstimator>(), placement.Estimator);
        Assert.Equal(10, placement.Estimator.PopulationScaleHours);
    }

    [Theory]
    [InlineData("best-fit", "placement strategy")]
    [InlineData("", "placement strategy")]
    public void An_unknown_placement_name_is_refused_listing_the_known_ones(string name, string what)
    {
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddVolunteerCloud(vc => vc.UsePlacement(name)));
        Assert.Contains($"'{name}' is not a {what}; choose one of: random, round-robin", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_churn_handler_and_membership_names_are_refused()
    {
        Assert.Contains("choose one of: reactive, replication, proactive", Assert.Throws<ArgumentException>(() => new ServiceCollection().AddVolunteerCloud(vc => vc.UseChurnHandler("eager"))).Message, StringComparison.Ordinal);
        Assert.Contains("choose one of: swim, swim-no-lifeguard, heartbeat, heartbeat-phi", Assert.Throws<ArgumentException>(() => new ServiceCollection().AddVolunteerCloud(vc => vc.UseMembership("registry"))).Message, StringComparison.Ordinal);
    }
}
