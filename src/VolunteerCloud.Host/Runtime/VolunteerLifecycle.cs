using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Membership;

namespace VolunteerCloud.Host.Runtime;

/// <summary>
/// What a volunteer's node does over its life besides handling inputs: leave gracefully (drain the replicas, then
/// leave the membership), keep to the owner's allowed hours, and retry joining while it knows no other member.
/// </summary>
internal sealed partial class VolunteerLifecycle(NodeLoop<ControlPlaneNode> loop, VolunteerOptions options, TimeProvider clock, SeedResolver seeds, ILogger logger, IHostApplicationLifetime? lifetime)
{
    private volatile bool _leaving;
    private volatile bool _drained;

    /// <summary>Whether the node is leaving (a graceful leave or an owner reclaim has begun).</summary>
    public bool Leaving => _leaving;

    /// <summary>Whether a drain has finished (a stop that follows need not drain again).</summary>
    public bool Drained => _drained;

    /// <summary>Starts the background duties: the allowed hours' watch, and retry-join.</summary>
    public void Start(CancellationToken stoppingToken)
    {
        if (options.AllowedHours.Count > 0)
        {
            _ = Task.Run(() => WatchHoursAsync(stoppingToken), CancellationToken.None);
        }

        _ = Task.Run(() => RetryJoinAsync(stoppingToken), CancellationToken.None);
    }

    /// <summary>
    /// Announces that this host leaves (now or after <paramref name="delay"/>), lets the stewards start replacements
    /// elsewhere and stop the copies here (up to <see cref="VolunteerOptions.LeaveDrainTimeout"/>), then leaves the
    /// membership: the owner reclaims the machine.
    /// </summary>
    public async Task DrainAsync(CancellationToken cancellationToken, TimeSpan? delay = null)
    {
        // Announced at once, so the stewards start replacements during any delay the owner gave.
        await loop.InvokeAsync((node, context) => { node.AnnounceLeaving(context); _leaving = true; return true; }, cancellationToken).ConfigureAwait(false);
        if (delay is { } wait && wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, clock, cancellationToken).ConfigureAwait(false);
        }

        LogLeaving(logger, options.LeaveDrainTimeout);
        var deadline = clock.GetUtcNow() + options.LeaveDrainTimeout;
        while (clock.GetUtcNow() < deadline)
        {
            var left = await loop.InvokeAsync((node, _) => node.LocalReplicas.Count(), cancellationToken).ConfigureAwait(false);
            if (left == 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), clock, cancellationToken).ConfigureAwait(false);
        }

        await loop.InvokeAsync((node, context) => { node.Membership.Leave(context); return true; }, cancellationToken).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromMilliseconds(500), clock, cancellationToken).ConfigureAwait(false); // let the leave gossip go out
        _drained = true; // StopAsync (which `vchost leave` ends in) does not drain again
    }

    /// <summary>At the end of the allowed hours: leave gracefully and stop the daemon (a service manager starts it again; it waits for the next allowed hour).</summary>
    private async Task WatchHoursAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (options.IsAllowed(clock.GetLocalNow()))
            {
                await Task.Delay(TimeSpan.FromSeconds(30), clock, stoppingToken).ConfigureAwait(false);
            }

            LogHoursOver(logger);
            lifetime?.StopApplication(); // StopAsync drains and leaves
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Retry-join (as Consul's and Nomad's): while this node knows no other live member, ask the seeds again every few
    /// seconds and join through whichever answers — a seed that was down, or not yet admitting this node (keys), when it started.
    /// </summary>
    private async Task RetryJoinAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), clock, stoppingToken).ConfigureAwait(false);
                var alone = await loop.InvokeAsync((node, _) => !node.Membership.View.Members.Any(m => m.Id != node.Self && m.State is MemberState.Alive or MemberState.Suspect), stoppingToken).ConfigureAwait(false);
                if (!alone || _leaving)
                {
                    continue;
                }

                foreach (var seed in (await seeds.ResolveOrKeptAsync(stoppingToken, TimeSpan.FromSeconds(2)).ConfigureAwait(false)).Others)
                {
                    await loop.InvokeAsync((node, context) => { node.Membership.JoinThrough(context, seed); return true; }, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(3, LogLevel.Information, "Leaving: stewards move this host's replicas elsewhere (waiting up to {Timeout})")]
    private static partial void LogLeaving(ILogger logger, TimeSpan timeout);

    [LoggerMessage(7, LogLevel.Information, "The allowed hours are over: leaving")]
    private static partial void LogHoursOver(ILogger logger);
}
