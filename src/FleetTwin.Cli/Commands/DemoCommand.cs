using System.CommandLine;
using System.Globalization;
using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Demand;
using FleetTwin.Domain.Drivers;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin demo</c>: one dom0 with a bnx2x storage bond, run through the exact SWIOTLB model on embedded defaults.
/// Shows the KB incident's physics in seconds: with MTU 9000 and GRO off the pool fragments, large TX mappings fail
/// (the host survives while they fit the 32 KiB overflow buffer) until one above 32 KiB panics the host.
/// </summary>
public static class DemoCommand
{
    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var gro = new Option<string>("--gro") { Description = "GRO on the bond members: on or off", DefaultValueFactory = _ => "off" };
        gro.AcceptOnlyFromAmong("on", "off");
        var mtu = new Option<int>("--mtu") { Description = "MTU of the storage bond", DefaultValueFactory = _ => 9000 };
        var swiotlb = new Option<int>("--swiotlb") { Description = "dom0 swiotlb= size in MiB (XenServer default 64)", DefaultValueFactory = _ => 64 };
        var hours = new Option<int>("--hours") { Description = "simulated hours to run", DefaultValueFactory = _ => 24 };
        var seed = new Option<int>("--seed") { Description = "random seed (same seed, same run)", DefaultValueFactory = _ => 1 };
        var driver = new Option<string>("--driver") { Description = "NIC driver profile", DefaultValueFactory = _ => "bnx2x" };
        var quiet = new Option<bool>("--quiet") { Description = "print only the summary, not every kernel record" };

        var command = new Command("demo", "Run one XenServer dom0's SWIOTLB pool through the exact allocator model (no servers needed)")
        {
            gro, mtu, swiotlb, hours, seed, driver, quiet,
        };
        command.SetAction(parse =>
        {
            var profile = DriverProfiles.Embedded.Find(parse.GetValue(driver)!);
            if (profile is null)
            {
                stderr.WriteLine($"fleettwin demo: --driver: no profile for '{parse.GetValue(driver)}' (known: {string.Join(", ", DriverProfiles.Embedded.Drivers)})");
                return 2;
            }
            int mtuValue = parse.GetValue(mtu), mib = parse.GetValue(swiotlb), hoursValue = parse.GetValue(hours);
            if (mtuValue is < 68 or > 65_535 || mib is < 1 or > 4096 || hoursValue is < 1 or > 24 * 365)
            {
                stderr.WriteLine("fleettwin demo: --mtu must be 68..65535, --swiotlb 1..4096 MiB, --hours 1..8760");
                return 2;
            }
            return Run(profile, mtuValue, parse.GetValue(gro) == "on", SwiotlbPoolSize.FromMiB(mib), hoursValue, parse.GetValue(seed), parse.GetValue(quiet), stdout);
        });
        return command;
    }

    private static int Run(DriverProfile profile, int mtu, bool groOn, SwiotlbPoolSize pool, int hours, int seed, bool quiet, TextWriter output)
    {
        var ports = new[]
        {
            new NicPort("eth4", "0000:04:00.0", profile, mtu, groOn),
            new NicPort("eth5", "0000:04:00.1", profile, mtu, groOn),
        };
        // Traffic doubles every simulated hour-ish (VMs starting on the host), as before the KB incident's first failure.
        var run = new SwiotlbWorkloadRun(new HostWorkload(pool, ports, TxGrowthPerHour: 1.0), seed);
        output.WriteLine($"host demo-xs62: {profile.Driver} bond eth4+eth5, MTU {mtu}, GRO {(groOn ? "on" : "off")}, dom0 swiotlb {pool}");
        output.WriteLine($"RX buffers {ports[0].RxBufferBytes} B x {ports[0].RxBuffers} per port, {(ports[0].RxBounces ? "bounced through the SWIOTLB" : "not bounced")}");

        long exhaustions = 0;
        long firstExhaustion = -1;
        void OnRecord(SwiotlbRecord record)
        {
            if (record.Message.Contains("Out of SW-IOMMU space", StringComparison.Ordinal))
            {
                exhaustions++;
                if (firstExhaustion < 0)
                    firstExhaustion = record.UptimeSeconds;
            }
            if (!quiet || record.Message.StartsWith("Kernel panic", StringComparison.Ordinal))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{record.UptimeSeconds,10:0.000000}] {record.Message}"));
        }

        run.Boot(OnRecord);
        var afterBoot = run.Region.Snapshot();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"after boot: {afterBoot.SlabsInUse} of {afterBoot.PoolSlabs} slabs in use ({afterBoot.Utilisation:P1}), largest free run {afterBoot.LargestFreeRun} slabs"));

        var panicked = run.Run(hours * 3600, OnRecord, (uptime, region) =>
        {
            if (!quiet && uptime % 3600 == 0)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"-- hour {uptime / 3600}: {region.SlabsInUse} slabs in use, high water {region.HighWaterSlabs}, largest free run {region.LargestFreeRun}, fragmentation {region.Fragmentation:P0}, {region.ExhaustionCount} exhaustion records"));
        });

        var end = run.Region.Snapshot();
        output.WriteLine();
        output.WriteLine(panicked
            ? string.Create(CultureInfo.InvariantCulture, $"PANIC after {run.Uptime / 3600.0:0.0} h: {end.Panic!.Bytes}-byte to-device mapping at {end.Panic.BusId} found no room ({end.Panic.Message}).")
            : string.Create(CultureInfo.InvariantCulture, $"no panic in {hours} h."));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"exhaustion records: {exhaustions}{(firstExhaustion >= 0 ? $" (first at uptime {firstExhaustion} s)" : "")}; high water {end.HighWaterSlabs} of {end.PoolSlabs} slabs"));
        foreach (var device in end.Devices)
            output.WriteLine($"  {device.BusId}: {device.Mappings} mappings, {device.Slabs} slabs, {device.ExhaustionEvents} exhaustion records");
        if (!groOn && panicked)
            output.WriteLine("cure: GRO on for eth4 and eth5 (xe pif-param-set other-config:ethtool-gro=on uuid=<pif>) and a rolling reboot; try --gro on");
        return 0;
    }
}
