namespace VolunteerCloud.Simulator.Cli;

/// <summary>
/// Wall-clock measurement for reports (events per second, wall time). The one place in the simulator allowed
/// to read the real clock: what it measures is printed, never fed back into a simulation.
/// </summary>
internal readonly struct WallClock
{
#pragma warning disable RS0030 // Banned API: reporting wall time is this type's whole job.
    private readonly long _start;

    private WallClock(long start) => _start = start;

    public static WallClock Start() => new(System.Diagnostics.Stopwatch.GetTimestamp());

    public TimeSpan Elapsed => System.Diagnostics.Stopwatch.GetElapsedTime(_start);
#pragma warning restore RS0030
}
