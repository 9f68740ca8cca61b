using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace VolunteerCloud.Tests;

/// <summary>
/// The README's test command runs the test projects side by side. The daemon's tests (VolunteerCloud.Host.Tests)
/// wait on real engines and daemons, whose timeouts are wall-clock; the simulator's and the Sdk's are CPU-bound and
/// would take the cores from them in bursts. This assembly lowers its own priority (nice 10) so the daemons' tests
/// get the CPU when they need it and the CPU-bound ones use what is left: the same tests, finished sooner.
/// </summary>
internal static class YieldToDaemonTests
{
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "A test assembly sets its own process's priority once, before any test.")]
    internal static void LowerPriority()
    {
        try
        {
            using var self = Process.GetCurrentProcess();
            self.PriorityClass = ProcessPriorityClass.BelowNormal;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or PlatformNotSupportedException or InvalidOperationException)
        {
            // Not allowed here: run at normal priority.
        }
    }
}
