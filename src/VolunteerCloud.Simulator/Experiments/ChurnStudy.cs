using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Simulator.Experiments;

/// <summary>What one churn model does to a population: the numbers <c>vcsim churn</c> prints.</summary>
/// <param name="Model">The model.</param>
/// <param name="Hosts">Hosts generated.</param>
/// <param name="Days">Days generated.</param>
/// <param name="Intervals">Intervals generated (up and down, clipped to the window).</param>
/// <param name="MeanAvailability">Share of host-time up, over all hosts and the whole window.</param>
/// <param name="AvailabilityHalfWidth95">Half-width of the 95% confidence interval of the mean per-host availability (hosts are independent).</param>
/// <param name="MeanSessionHours">Mean length of up intervals that start and end inside the window.</param>
/// <param name="Sessions">How many such intervals.</param>
/// <param name="HostsUpByHour">Hosts up at each whole hour inside the window (0, 1, …).</param>
public sealed record ChurnSummary(
    IChurnModel Model,
    int Hosts,
    double Days,
    long Intervals,
    double MeanAvailability,
    double AvailabilityHalfWidth95,
    double MeanSessionHours,
    long Sessions,
    int[] HostsUpByHour);

/// <summary>Generates hosts' timelines from a churn model, as <see cref="ChurnDriver"/> would, and summarises them.</summary>
public static class ChurnStudy
{
    /// <summary>
    /// Runs <paramref name="hosts"/> hosts of <paramref name="model"/> for <paramref name="days"/> days. Host i uses
    /// stream i of the seed's "churn" stream: the same timelines a <see cref="ChurnDriver"/> in a simulation with this
    /// seed gives its node i.
    /// </summary>
    public static ChurnSummary Run(IChurnModel model, int hosts, double days, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(hosts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(days, 0);
        var horizon = days * 24;
        var hours = (int)Math.Ceiling(horizon); // samples at whole hours 0 .. hours - 1, all inside [0, horizon)
        var delta = new int[hours + 1];
        var churnSeed = SplitMix64.Mix64(seed ^ SplitMix64.StreamIndexFor("churn"));
        long intervals = 0, sessions = 0;
        double upTotal = 0, sessionTotal = 0, sumAvailability = 0, sumSquares = 0;
        for (var i = 0; i < hosts; i++)
        {
            var random = SplittableRandom.ForStream(churnSeed, (ulong)i);
            var host = model.CreateHost(random);
            var hostUp = 0.0;
            foreach (var interval in ChurnTimeline.Within(host, random, horizon))
            {
                intervals++;
                if (!interval.Up)
                {
                    continue;
                }

                hostUp += interval.Hours;
                if (interval.StartHours > 0 && interval.EndHours < horizon)
                {
                    sessions++;
                    sessionTotal += interval.Hours;
                }

                // Hours h with start <= h < end see the host up.
                var first = (int)Math.Ceiling(interval.StartHours);
                var last = (int)Math.Ceiling(interval.EndHours); // exclusive
                if (first < hours && last > first)
                {
                    delta[first]++;
                    delta[Math.Min(last, hours)]--;
                }
            }

            upTotal += hostUp;
            var availability = hostUp / horizon;
            sumAvailability += availability;
            sumSquares += availability * availability;
        }

        var up = new int[hours];
        var running = 0;
        for (var h = 0; h < hours; h++)
        {
            running += delta[h];
            up[h] = running;
        }

        var mean = sumAvailability / hosts;
        var variance = hosts > 1 ? Math.Max(0, (sumSquares - (hosts * mean * mean)) / (hosts - 1)) : 0;
        return new ChurnSummary(
            model,
            hosts,
            days,
            intervals,
            upTotal / (hosts * horizon),
            1.96 * Math.Sqrt(variance / hosts),
            sessions > 0 ? sessionTotal / sessions : double.NaN,
            sessions,
            up);
    }

    /// <summary>
    /// Drives <paramref name="hosts"/> idle nodes with <see cref="ChurnDriver"/> in a <see cref="Simulation"/> for
    /// <paramref name="days"/> days: the cost of churn inside the simulator. Returns the up/down transitions applied
    /// and the events the kernel processed.
    /// </summary>
    public static (long Transitions, long Events) RunInSimulation(IChurnModel model, int hosts, double days, ulong seed)
    {
        using var simulation = new Simulation(new SimulationOptions { Seed = seed });
        var driver = new ChurnDriver(simulation, model, _ => IdleNode.Instance);
        long transitions = 0;
        driver.HostChanged += (_, _) => transitions++;
        for (var i = 0; i < hosts; i++)
        {
            driver.Attach(simulation.AddNode(IdleNode.Instance));
        }

        simulation.RunFor(TimeSpan.FromDays(days));
        return (transitions, simulation.Statistics.EventsProcessed);
    }

    private sealed class IdleNode : INode
    {
        public static IdleNode Instance { get; } = new();

        public void OnStart(NodeContext context)
        {
        }

        public void OnMessage(NodeContext context, NodeId from, InboundMessage message)
        {
        }

        public void OnTimer(NodeContext context, TimerTag tag)
        {
        }
    }
}
