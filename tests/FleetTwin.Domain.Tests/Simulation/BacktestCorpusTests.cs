using FleetTwin.Domain.Simulation;

namespace FleetTwin.Domain.Tests.Simulation;

/// <summary>The fleet backtest corpus generator: deterministic from its seed, each class what it claims to be.</summary>
public class BacktestCorpusTests
{
    /// <summary>
    /// One host per group, one day, on the fast engine: these tests are about the generator (seeds, classes,
    /// transcripts), not about the allocator, and the exact engine's corpus takes minutes (its ramps stay exact).
    /// </summary>
    private static readonly CorpusOptions Small = new() { Seed = 5, Scale = 0.05, Days = 1, Engine = SimulationEngineKind.Fast };

    /// <summary>The small corpus, generated once for the tests that only read it (its exact ramp runs the allocator: seconds).</summary>
    private static readonly Lazy<IReadOnlyList<CorpusHost>> SmallCorpus = new(() => BacktestCorpus.Generate(Small));

    [Fact]
    public void The_same_seed_gives_the_same_bytes_and_another_seed_other_bytes()
    {
        var first = SmallCorpus.Value;
        var again = BacktestCorpus.Generate(Small);
        var other = BacktestCorpus.Generate(Small with { Seed = 6 });

        Assert.Equal(first.Select(h => (h.Class, h.Host, h.KernLog, h.Transcript)), again.Select(h => (h.Class, h.Host, h.KernLog, h.Transcript)));
        Assert.Equal(first.Select(h => h.Host), other.Select(h => h.Host));
        Assert.NotEqual(first.Select(h => h.KernLog), other.Select(h => h.KernLog));
    }

    [Fact]
    public void Every_class_has_hosts_and_only_the_kb_like_hand_written_hosts_panic()
    {
        var hosts = BacktestCorpus.Generate(Small with { Days = 7 });

        Assert.Equal(BacktestCorpus.Classes.Select(c => c.Name).Order(StringComparer.Ordinal), hosts.Select(h => h.Class).Distinct().Order(StringComparer.Ordinal));
        foreach (var cls in new[] { "sporadic-nic", "storage-sg", "modern-kernel" })
            Assert.All(hosts.Where(h => h.Class == cls), h => Assert.Equal(0, h.Panics));
        Assert.All(hosts.Where(h => h.Class == "kb-like"), h => Assert.InRange(h.Panics, 1, 2));
        // Each ground-truth panic is in the log: its failed mapping over 32 KiB, then the panic line.
        Assert.All(hosts, h => Assert.Equal(h.Panics, h.KernLog.Split('\n').Count(l => l.EndsWith("Kernel panic - not syncing: DMA: Random memory could be DMA read", StringComparison.Ordinal))));
        Assert.All(hosts.Where(h => h.Class == "modern-kernel"), h => Assert.Contains("swiotlb buffer is full (sz: ", h.KernLog, StringComparison.Ordinal));
    }

    [Fact]
    public void A_sporadic_host_fails_at_most_once_in_12_hours()
    {
        var hosts = BacktestCorpus.Generate(Small with { Days = 7, Scale = 0.5 }).Where(h => h.Class == "sporadic-nic").ToList();

        Assert.NotEmpty(hosts);
        foreach (var host in hosts)
        {
            var uptimes = host.KernLog.Split('\n').Where(l => l.Contains("Out of SW-IOMMU", StringComparison.Ordinal))
                .Select(l => double.Parse(l[(l.IndexOf('[') + 1)..l.IndexOf(']')], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.NotEmpty(uptimes);
            Assert.All(uptimes.Zip(uptimes.Skip(1)), p => Assert.InRange(p.Second - p.First, 12 * 3600, 60 * 3600));
        }
    }

    [Fact]
    public void Each_host_configuration_names_every_NIC_driver_bus_GRO_and_MTU()
    {
        var host = SmallCorpus.Value.First(h => h.Class == "sim-gro-on");

        foreach (var (device, bus) in new[] { ("eth0", "0000:02:00.0"), ("eth4", "0000:04:00.0"), ("eth5", "0000:04:00.1") })
        {
            Assert.Contains($"[root@{host.Host} ~]# ethtool -i {device}\n", host.Transcript, StringComparison.Ordinal);
            Assert.Contains($"bus-info: {bus}\n", host.Transcript, StringComparison.Ordinal);
            Assert.Contains($"[root@{host.Host} ~]# ethtool -k {device}\n", host.Transcript, StringComparison.Ordinal);
        }
        Assert.Contains("driver: bnx2x\n", host.Transcript, StringComparison.Ordinal);
        Assert.DoesNotContain("generic-receive-offload: off", host.Transcript, StringComparison.Ordinal);
        Assert.Contains("mtu 9000", host.Transcript, StringComparison.Ordinal);
        Assert.Contains($"[root@{host.Host} ~]# cat /proc/cmdline\n", host.Transcript, StringComparison.Ordinal);
    }

    [Fact]
    public void The_simulated_classes_run_on_the_exact_allocator_unless_told_otherwise()
    {
        Assert.Equal(SimulationEngineKind.Exact, new CorpusOptions().Engine);
    }

    [Fact]
    public void A_few_hosts_regenerated_alone_have_the_bytes_they_have_in_the_whole_corpus()
    {
        var whole = SmallCorpus.Value;
        var named = new HashSet<string>(StringComparer.Ordinal) { "inc-hi-h01", "storm-h02", "xr-h01", "kbl-h01", "stor-h01" };

        var few = BacktestCorpus.Generate(Small with { Hosts = named });

        Assert.Equal(named.Order(StringComparer.Ordinal), few.Select(h => h.Host).Order(StringComparer.Ordinal));
        foreach (var host in few)
        {
            var same = whole.Single(h => h.Host == host.Host);
            Assert.Equal((same.Class, same.KernLog, same.Transcript), (host.Class, host.KernLog, host.Transcript));
        }
    }
}
