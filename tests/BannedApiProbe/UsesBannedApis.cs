namespace BannedApiProbe;

internal static class UsesBannedApis
{
    public static async Task UseAll()
    {
        _ = DateTime.Now;
        _ = DateTime.UtcNow;
        _ = DateTime.Today;
        _ = DateTimeOffset.Now;
        _ = DateTimeOffset.UtcNow;
        _ = TimeProvider.System;
        _ = System.Diagnostics.Stopwatch.StartNew();
        _ = Environment.TickCount;
        _ = Environment.TickCount64;
        Thread.Sleep(1);
        Thread.Sleep(TimeSpan.Zero);
        await Task.Delay(1);
        await Task.Delay(TimeSpan.Zero);
        await Task.Delay(1, CancellationToken.None);
        await Task.Delay(TimeSpan.Zero, CancellationToken.None);
        await Task.Delay(TimeSpan.Zero, TimeProvider.System);
        await Task.Delay(TimeSpan.Zero, TimeProvider.System, CancellationToken.None);
        _ = Random.Shared;
        _ = new Random();
        _ = Guid.NewGuid();
        _ = System.Security.Cryptography.RandomNumberGenerator.GetInt32(10);
        using var timer = new Timer(_ => { });
        using var periodic = new PeriodicTimer(TimeSpan.FromSeconds(1));
        using var a = new CancellationTokenSource(1);
        using var b = new CancellationTokenSource(TimeSpan.Zero);
        a.CancelAfter(1);
        b.CancelAfter(TimeSpan.Zero);
        _ = HashCode.Combine(1, 2);
        _ = "x".GetHashCode();
        _ = "x".GetHashCode(StringComparison.Ordinal);
    }
}
