using System.Globalization;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using VolunteerCloud.Containers;
using ContainerSpec = VolunteerCloud.Containers.ContainerSpec;
using ContainerStatus = VolunteerCloud.Containers.ContainerStatus;

namespace VolunteerCloud.Host.Docker;

/// <content>What the runtime asks of the engine for a container (its parameters: the volunteer's caps, the labels, no privileges), and what it follows on the engine's event stream.</content>
internal sealed partial class DockerContainerRuntime
{
    private CreateContainerParameters CreateParameters(ContainerSpec spec, ContainerId id)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { [NodeLabel] = _options.Node.Value.ToString(CultureInfo.InvariantCulture) };
        if (spec.App.Length > 0)
        {
            labels[AppLabel] = spec.App;
        }

        if (spec.Replica.Length > 0)
        {
            labels[ReplicaLabel] = spec.Replica;
        }

        var exposed = new Dictionary<string, EmptyStruct>(StringComparer.Ordinal);
        var bindings = new Dictionary<string, IList<global::Docker.DotNet.Models.PortBinding>>(StringComparer.Ordinal);
        foreach (var port in spec.Ports)
        {
            var key = $"{port.ContainerPort.ToString(CultureInfo.InvariantCulture)}/{port.Protocol}";
            exposed[key] = default;
            bindings[key] = [new global::Docker.DotNet.Models.PortBinding { HostIP = _options.PublishAddress ?? string.Empty, HostPort = port.HostPort == 0 ? string.Empty : port.HostPort.ToString(CultureInfo.InvariantCulture) }];
        }

        return new CreateContainerParameters
        {
            Image = spec.Image,
            Name = ContainerName(spec, id),
            Cmd = spec.Command.Count > 0 ? [.. spec.Command] : null!,
            Env = [.. spec.Environment.Select(e => e.Key + "=" + e.Value)],
            Labels = labels,
            ExposedPorts = exposed,
            Healthcheck = spec.HealthCheck is { } health ? new HealthcheckConfig
            {
                Test = [.. health.Test],
                Interval = health.Interval,
                Timeout = health.Timeout,
                Retries = health.Retries,
                StartPeriod = health.StartPeriod,
            } : null,
            HostConfig = new HostConfig
            {
                Memory = spec.Limits.MemoryBytes,
                MemorySwap = spec.Limits.MemoryBytes, // no swap beyond the limit
                NanoCPUs = (long)Math.Round(spec.Limits.Cpus * 1e9),
                PidsLimit = _options.PidsLimit,
                PortBindings = bindings,
                Privileged = false,
                ReadonlyRootfs = spec.ReadOnlyRootFilesystem,
                CapDrop = ["ALL"],
                CapAdd = [.. DockerRuntimeOptions.Capabilities],
                SecurityOpt = ["no-new-privileges"],
                NetworkMode = "bridge",
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.No }, // the stewards restart replicas, not the engine
            },
        };
    }

    private string ContainerName(ContainerSpec spec, ContainerId id)
    {
        var replica = spec.Replica.Length > 0 ? spec.Replica : "replica";
        var name = new StringBuilder("vc-").Append(_options.Node.Value.ToString(CultureInfo.InvariantCulture)).Append('-');
        foreach (var c in replica)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_');
        }

        return name.Append('-').Append(id.Value.ToString(CultureInfo.InvariantCulture)).ToString(); // the runtime's id: unique, and no second counter
    }

    private async Task FollowEventsAsync(CancellationToken cancellationToken)
    {
        var parameters = new ContainerEventsParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["type"] = new Dictionary<string, bool> { ["container"] = true },
                ["event"] = new Dictionary<string, bool> { ["die"] = true, ["health_status"] = true },
                ["label"] = new Dictionary<string, bool> { [$"{NodeLabel}={_options.Node.Value}"] = true },
            },
        };

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await _client.System.MonitorEventsAsync(parameters, new SyncProgress(OnEngineEvent), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException)
            {
                LogEventsLost(_logger, e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnEngineEvent(Message message)
    {
        if (message.Actor?.ID is not { } dockerId)
        {
            return;
        }

        if (message.Action is "health_status: unhealthy")
        {
            ContainerId sick;
            lock (_lock)
            {
                if (!_byDockerId.TryGetValue(dockerId, out sick) || _entries[sick].Status != ContainerStatus.Running)
                {
                    return; // not ours, or still starting (WaitHealthyAsync decides)
                }

                _entries[sick].Status = ContainerStatus.Stopping;
            }

            // An unhealthy replica is stopped and reported exited: its steward starts a healthy one.
            _ = Task.Run(() => StopAsync(sick, dockerId, _stopping.Token, "unhealthy"));
            return;
        }

        if (message.Action != "die")
        {
            return;
        }

        ContainerId id;
        lock (_lock)
        {
            if (!_byDockerId.TryGetValue(dockerId, out id) || _entries[id].Status == ContainerStatus.Stopping)
            {
                return; // not ours, or being stopped by us (StopAsync reports it)
            }

            _entries[id].Status = ContainerStatus.Stopping;
        }

        var exitCode = message.Actor.Attributes is { } attributes && attributes.TryGetValue("exitCode", out var code) &&
                       int.TryParse(code, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : -1;
        _ = Task.Run(async () =>
        {
            await TryRemoveAsync(dockerId).ConfigureAwait(false);
            if (Forget(id, dockerId))
            {
                _post(new ContainerEvent(id, ContainerEventKind.Exited, exitCode, "exited"));
            }
        });
    }
}
