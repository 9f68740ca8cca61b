using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace VolunteerCloud.Simulator.Kernel;

/// <summary>
/// Software prefetch hints: ask the CPU to start loading memory the simulation will touch a few events from
/// now, so that the cache misses of many nodes overlap instead of queuing up. A hint never faults and never
/// changes behaviour; on CPUs without the instruction it does nothing.
/// </summary>
internal static unsafe class Prefetch
{
    /// <summary>Starts loading the cache line that holds <paramref name="location"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Line<T>(ref T location)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref location));
        }
    }

    /// <summary>Starts loading the first cache line of an object (its header and first fields).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Object(object? instance)
    {
        if (instance is not null && Sse.IsSupported)
        {
            // The reference is the object's address; a stale address (after a GC moved it) is harmless here.
            Sse.Prefetch0((void*)Unsafe.As<object, nint>(ref instance));
        }
    }
}
