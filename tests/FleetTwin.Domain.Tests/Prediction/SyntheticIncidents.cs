using System.Globalization;
using System.Text;
using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Demand;
using FleetTwin.Domain.Drivers;

namespace FleetTwin.Domain.Tests.Prediction;

/// <summary>
/// The synthetic incidents the backtest is scored on (tests/FleetTwin.Ingest.Tests/Golden/synthetic/): kern.log files
/// written by the allocator model itself, so the predictor meets records it was not tuned on. Set
/// FLEETTWIN_WRITE_SYNTHETIC=1 to rewrite them; otherwise the test proves the files are what the model writes.
/// </summary>
public class SyntheticIncidents
{
    private static readonly DateTimeOffset BootTime = new(2014, 9, 20, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The files: name -> content.</summary>
    public static IEnumerable<(string File, string Text)> All()
    {
        yield return ("synth-gro-off-64.log", Simulated("synth-ix-0101", mib: 64, gro: false, hours: 24, seed: 1));
        yield return ("synth-gro-off-64-b.log", Simulated("synth-ix-0111", mib: 64, gro: false, hours: 24, seed: 4));
        yield return ("synth-gro-off-64-c.log", Simulated("synth-ix-0112", mib: 64, gro: false, hours: 24, seed: 5));
        yield return ("synth-gro-off-128.log", Simulated("synth-ix-0102", mib: 128, gro: false, hours: 24, seed: 2));
        yield return ("synth-gro-on.log", Simulated("synth-ix-0103", mib: 64, gro: true, hours: 24, seed: 3));
        yield return ("synth-modern-kernel.log", ModernKernel("synth-ix-0201", hours: 12));
    }

    [Fact]
    public void The_synthetic_incident_files_are_what_the_allocator_model_writes()
    {
        var dir = Path.Combine(RepositoryRoot(), "tests", "FleetTwin.Ingest.Tests", "Golden", "synthetic");
        foreach (var (file, text) in All())
        {
            var path = Path.Combine(dir, file);
            if (Environment.GetEnvironmentVariable("FLEETTWIN_WRITE_SYNTHETIC") == "1")
            {
                Directory.CreateDirectory(dir);
                File.WriteAllText(path, text);
            }
            Assert.Equal(text, File.ReadAllText(path));
        }
    }

    /// <summary>A 6.2 host with a bnx2x bond at MTU 9000, traffic growing 100 %/h from an hour after boot.</summary>
    private static string Simulated(string host, int mib, bool gro, int hours, int seed)
    {
        var bnx2x = DriverProfiles.Embedded.Get("bnx2x");
        var workload = new HostWorkload(SwiotlbPoolSize.FromMiB(mib),
            [new NicPort("eth4", "0000:04:00.0", bnx2x, 9000, gro), new NicPort("eth5", "0000:04:00.1", bnx2x, 9000, gro)],
            TxGrowthPerHour: 1.0, SampledMappingsPerSecondPerPort: 400);
        var log = new StringBuilder();
        Line(log, host, 0, "Linux version 2.6.32.43-0.4.1.xs1.8.0.853.170791xen (geeko@buildhost) (gcc version 4.1.2 20080704 (Red Hat 4.1.2-51)) #1 SMP Mon Mar 3 06:36:39 EST 2014");
        var run = new SwiotlbWorkloadRun(workload, seed);
        var sameSecond = 0;
        long lastSecond = -1;
        void Record(SwiotlbRecord r)
        {
            sameSecond = r.UptimeSeconds == lastSecond ? sameSecond + 1 : 0;
            lastSecond = r.UptimeSeconds;
            Line(log, host, r.UptimeSeconds + sameSecond * 0.000010, r.Message);
        }
        run.Boot(Record);
        for (var hour = 0; hour < hours && !run.Region.HasPanicked; hour++)
        {
            // A guest starts each hour (netback connects its vif): traffic is what grows.
            Line(log, host, run.Uptime + 0.5, $"device vif{hour + 10}.0 entered promiscuous mode");
            run.Run(3600, Record);
        }
        return log.ToString();
    }

    /// <summary>A 4.19 dom0 (XCP-ng 8.x-like) whose swiotlb logs "buffer is full" in bursts and never panics.</summary>
    private static string ModernKernel(string host, int hours)
    {
        var log = new StringBuilder();
        Line(log, host, 0, "Linux version 4.19.0+1 (mockbuild@builder) (gcc version 8.3.1 20190311 (Red Hat 8.3.1-3)) #1 SMP Thu Jun 11 08:33:08 CEST 2020");
        var random = new Random(7);
        for (var hour = 1; hour <= hours; hour++)
        {
            for (var i = 0; i < 3; i++)
            {
                var uptime = hour * 3600 + random.Next(0, 3000) + i * 0.001;
                Line(log, host, uptime, $"swiotlb buffer is full (sz: {random.Next(16, 33) * 2048} bytes), total 32768 (slots), used {32700 + random.Next(0, 60)} (slots)");
            }
        }
        return log.ToString();
    }

    private static void Line(StringBuilder log, string host, double uptime, string message)
    {
        var time = BootTime.AddSeconds(uptime);
        log.Append(time.ToString("MMM dd HH:mm:ss", CultureInfo.InvariantCulture)).Append(' ').Append(host).Append(" kernel: [")
            .Append(uptime.ToString("0.000000", CultureInfo.InvariantCulture).PadLeft(12)).Append("] ").Append(message).Append('\n');
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FleetTwin.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"FleetTwin.sln not found above {AppContext.BaseDirectory}");
    }
}
