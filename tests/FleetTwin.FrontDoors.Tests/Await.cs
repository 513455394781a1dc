using System.Diagnostics;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>Waiting for what the doors do on their own threads: until it holds, or a failure naming what never came.</summary>
internal static class Await
{
    /// <summary>
    /// Polls <paramref name="condition"/> until it holds. The deadline is a hang guard far beyond what the wait needs
    /// (milliseconds on an idle machine); reaching it fails the test with <paramref name="what"/> and the state seen.
    /// </summary>
    public static async Task Until(string what, Func<bool> condition, Func<string>? state = null, double seconds = 60)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed.TotalSeconds > seconds)
                Assert.Fail($"waited {seconds} s for {what}; it never came{(state is null ? "" : $" ({state()})")}");
            await Task.Delay(10);
        }
    }
}
