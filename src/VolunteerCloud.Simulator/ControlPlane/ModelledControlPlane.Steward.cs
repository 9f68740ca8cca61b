using VolunteerCloud.Availability;
using VolunteerCloud.Apps;
using VolunteerCloud.Containers;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Membership;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.Containers;
using VolunteerCloud.Simulator.Population;

namespace VolunteerCloud.Simulator.ControlPlane;

/// <content>The modelled stewards: when they reconcile, and what they decide (the Sdk's steward rules and planner).</content>
public static partial class ModelledControlPlane
{
    private sealed partial class Model
    {
        private void Arm(int app)
        {
            if (_armed[app] || !_deployed)
            {
                return;
            }

            _armed[app] = true;
            _simulation.Schedule(_options.ReconcileDelay, () =>
            {
                _armed[app] = false;
                Reconcile(app);
            });
        }

        /// <summary>Whether every app is reconciled on every pass (the churn handler's decisions drift with time).</summary>
        private bool EveryPass => _churn.UsesResidualUptime || _scenario.AvailabilityTarget is not null;

        private void Attention(int app)
        {
            if (!_flagged[app])
            {
                _flagged[app] = true;
                _attention[app % Phases].Add(app);
            }
        }

        /// <summary>
        /// The periodic pass, spread like the stewards' own timers: every app once per reconcile interval, in
        /// <see cref="Phases"/> slices one after the other (in the protocol run every steward ticks at its own phase;
        /// all at once, deterministic strategies such as bin-pack would send every retry to the same host).
        /// </summary>
        private void Periodic(int phase)
        {
            if (EveryPass)
            {
                for (var a = phase; a < _apps.Count; a += Phases)
                {
                    Reconcile(a);
                }
            }
            else
            {
                // Only apps that were not whole or had a start pending: for the others a pass changes nothing, and
                // every change that could (a report, a departure, a grace period running out) reconciles them anyway.
                var due = _attention[phase];
                _attention[phase] = _spare;
                _spare = due;
                foreach (var a in due)
                {
                    _flagged[a] = false;
                }

                foreach (var a in due)
                {
                    Reconcile(a);
                }

                due.Clear();
            }

            _simulation.Schedule(_options.ReconcileInterval / Phases, () => Periodic((phase + 1) % Phases));
        }

        private void ReconcileAll()
        {
            for (var a = 0; a < _apps.Count; a++)
            {
                Reconcile(a);
            }
        }

        private void Reconcile(int app)
        {
            if (_scenario.PinnedController && !_controllerUp)
            {
                return; // the one controller is gone: nobody reconciles
            }

            var now = _simulation.Now;
            _cluster.Now = now;
            var spec = _apps[app];
            var target = StewardRules.Target(spec, _cluster, _churn);
            _plan.Clear();
            _planCopies.Clear();
            var copies = _copies[app];
            for (var i = copies.Count - 1; i >= 0; i--)
            {
                var copy = copies[i];
                if (!copy.Reported && StewardRules.StartExpired(now, copy.Deadline, _viewAlive[copy.Host]))
                {
                    Drop(copy, arm: false); // the start timed out or its host is gone: place it again now
                }
            }

            foreach (var copy in copies)
            {
                var host = copy.Host;
                if (!copy.Reported)
                {
                    _plan.Add(StewardRules.Pending(copy.Replica, new NodeId(host)));
                    _planCopies.Add(copy);
                    continue;
                }

                var standing = StewardRules.Judge(_viewAlive[host], now, _downSince[host], _leaving[host], _cluster, host, _churn, _survival);
                if (standing.Lost)
                {
                    continue;
                }

                _plan.Add(StewardRules.Reported(copy.Replica, new NodeId(host), true, standing));
                _planCopies.Add(copy);
            }

            _actions.Clear();
            StewardPlanner.Plan(_plan, target, _actions);
            if (!StewardPlanner.IsWhole(_plan, target))
            {
                Attention(app);
            }

            if (_actions.Count == 0)
            {
                return;
            }

            _used.Clear();
            foreach (var copy in _plan)
            {
                if (!_used.Contains(copy.Host))
                {
                    _used.Add(copy.Host);
                }
            }

            foreach (var action in _actions)
            {
                if (action.Start)
                {
                    Place(app, action.Slot);
                }
                else
                {
                    var copy = _planCopies[_plan.IndexOf(action.Copy)];
                    _simulation.ScheduleOnNode(CommandDelay, new NodeId(copy.Host), context =>
                    {
                        if (copy.Container is { } container)
                        {
                            context.Containers.Stop(container);
                        }
                    });
                }
            }
        }

        private void Place(int app, int slot)
        {
            var spec = _apps[app];
            foreach (var existing in _copies[app])
            {
                if (!existing.Reported && existing.Replica.Slot == slot)
                {
                    return; // a start is already pending for this slot
                }
            }

            // Each app has its own steward: its own strategy instance (a round-robin cursor of its own), and it counts
            // its own pending starts in the hosts' load, but not other stewards' until their hosts report them.
            var placement = _placements[app] ??= _scenario.Placement();
            foreach (var pending in _copies[app])
            {
                if (!pending.Holding)
                {
                    _cluster.Place(pending.Host, spec.Limits);
                }
            }

            var index = placement.Choose(_cluster, StewardRules.Request(spec, slot, _used, _cluster), _random);
            foreach (var pending in _copies[app])
            {
                if (!pending.Holding)
                {
                    _cluster.Release(pending.Host, spec.Limits);
                }
            }

            if (index < 0)
            {
                return; // no capacity now: the next pass tries again
            }

            var host = index; // hosts were added in id order
            var copy = new Copy(new ReplicaId(spec.Name, slot, ++_serial), host, app) { Deadline = _simulation.Now + _options.StartTimeout };
            _copies[app].Add(copy);
            (_onHost[host] ??= []).Add(copy);
            _used.Add(new NodeId(host));
            _starts++;
            _simulation.ScheduleOnNode(CommandDelay, new NodeId(host), context =>
            {
                var busy = _onHost[host]!.Any(c => c != copy && c.App == app && c.Container is not null);
                if (busy || !copy.Known || !context.Containers.TryRun(spec.ToContainerSpec(copy.Replica.ToString()), out var container))
                {
                    return; // refused (a copy of the app already runs here, or no room): the start times out
                }

                copy.Container = container;
                _byContainer[(host, container.Value)] = copy;
            });
        }
    }
}
