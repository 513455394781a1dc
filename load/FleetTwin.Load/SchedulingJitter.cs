using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace FleetTwin.Load;

/// <summary>
/// How late this machine wakes a thread that sleeps 1 ms: the floor under any latency percentile measured on it. A
/// thread that allocates nothing (no GC of its own) and sleeps 1 ms at a time counts the wake-ups that came more than
/// 3 ms late, their total time, and the worst. Run it on the idle machine and beside a load to see what the machine
/// adds to a tail.
/// </summary>
internal static class SchedulingJitter
{
    public static Command Create()
    {
        var seconds = new Option<int>("--seconds") { DefaultValueFactory = _ => 20, Description = "how long to probe" };
        var command = new Command("jitter", "How late the machine wakes a sleeping thread (stalls over 3 ms): the floor under measured tails") { seconds };
        command.SetAction(parse =>
        {
            var duration = TimeSpan.FromSeconds(parse.GetValue(seconds));
            var late = new List<double>();
            var clock = Stopwatch.StartNew();
            var last = clock.Elapsed;
            while (clock.Elapsed < duration)
            {
                Thread.Sleep(1);
                var now = clock.Elapsed;
                var overdue = (now - last).TotalMilliseconds - 1;
                if (overdue > 3)
                    late.Add(overdue);
                last = now;
            }
            late.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{duration.TotalSeconds:0} s of 1 ms sleeps: {late.Count} wake-ups over 3 ms late ({late.Count / duration.TotalSeconds:0.0}/s), {late.Count(l => l > 5)} over 5 ms, worst {(late.Count == 0 ? 0 : late[^1]):0.0} ms, {late.Sum() / duration.TotalMilliseconds:P2} of the time"));
        });
        return command;
    }
}
