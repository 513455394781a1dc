using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Ingest.Tests;

/// <summary>Fleet facts from command output: a shell transcript (Golden/formats/transcript.txt) and bare pasted output.</summary>
public class CommandOutputTests
{
    private static readonly Parsed Transcript = Golden.File_("formats/transcript.txt", host: "not-the-prompt-host");
    private static readonly Parsed Pasted = Golden.File_("formats/command-output.txt", host: "xs62-a01");

    [Fact]
    public void The_prompt_names_the_host_of_the_output_below_it_over_the_default_host()
    {
        Assert.All(Transcript.Events, e => Assert.Equal("xs62-a01", e.Host));
    }

    [Fact]
    public void Ethtool_k_under_a_prompt_gives_the_device_and_gro_off()
    {
        var offloads = Transcript.Single<NicOffloads>();

        Assert.Equal("eth4", offloads.Device);
        Assert.False(offloads.GenericReceiveOffload);
        Assert.Equal(12, offloads.Offloads.Length);
        Assert.Contains(offloads.Offloads, o => o.Name == "tcp-segmentation-offload" && o.Enabled);
    }

    [Fact]
    public void Ethtool_i_gives_driver_version_and_the_bus_id_that_joins_it_to_swiotlb_messages()
    {
        var driver = Transcript.Single<NicDriver>();

        Assert.Equal(("eth4", "bnx2x", "1.78.17-0", "0000:04:00.0"), (driver.Device, driver.Driver, driver.Version, driver.BusInfo));
        Assert.Equal("bc 7.8.22 phy baa0:0105", driver.FirmwareVersion);
    }

    [Fact]
    public void Xe_pif_list_params_all_gives_member_and_bond_PIFs_with_gro_from_other_config()
    {
        var pifs = Transcript.All<PifFact>();

        Assert.Equal(2, pifs.Count);
        var member = pifs[0];
        Assert.Equal(("eth4", 9000, "6a0f3c2e-8b9d-4f1a-b2c3-d4e5f6a7b8c9", "on"), (member.Device, member.Mtu!.Value, member.BondSlaveOf, member.EthtoolGro));
        Assert.Null(member.Vlan);
        Assert.Null(member.BondMasterOf);
        Assert.False(member.Management);
        Assert.Equal("xs62-a01", member.HostName);
        Assert.Contains(member.OtherConfig, c => c.Key == "mtu" && c.Value == "9000");
        var bond = pifs[1];
        Assert.Equal(("bond0", "6a0f3c2e-8b9d-4f1a-b2c3-d4e5f6a7b8c9"), (bond.Device, bond.BondMasterOf));
        Assert.Null(bond.BondSlaveOf);
        Assert.True(bond.Management);
    }

    [Fact]
    public void Xe_bond_host_pool_patch_and_vm_lists_give_their_facts()
    {
        var bond = Transcript.Single<BondFact>();
        Assert.Equal(2, bond.Slaves.Length);
        Assert.Equal("2e8b3cad-6e2f-4d55-ab1f-3c9f7d4e5f02", bond.Master);

        var host = Transcript.Single<XenHostFact>();
        Assert.Equal(("xs62-a01", "6.2.0", "2.6.32.43-0.4.1.xs1.8.0.853.170791xen"), (host.NameLabel, host.ProductVersion, host.Linux));
        Assert.Equal((137402609664L, 21474836480L), (host.MemoryTotal!.Value, host.MemoryFree!.Value));

        var pool = Transcript.Single<PoolFact>();
        Assert.Equal(("prod-pool-a", host.Uuid), (pool.NameLabel, pool.Master));

        var hotfixes = Transcript.All<HotfixFact>();
        Assert.Equal(["XS62ESP1", "XS62ESP1004"], hotfixes.Select(h => h.NameLabel));
        Assert.DoesNotContain(host.Uuid, hotfixes[1].Hosts);
        Assert.Contains(host.Uuid, hotfixes[0].Hosts);

        var vm = Transcript.Single<VmFact>();
        Assert.Equal(("web-07", "running", host.Uuid, 4294967296L, 174), (vm.NameLabel, vm.PowerState, vm.ResidentOn, vm.MemoryActual!.Value, vm.DomId!.Value));
    }

    [Fact]
    public void Ip_link_and_the_dom0_command_line_give_mtu_and_the_swiotlb_size()
    {
        var link = Transcript.Single<LinkMtu>();
        Assert.Equal(("eth4", 9000, "UP", "bond0"), (link.Device, link.Mtu, link.State, link.Master));

        var cmdlines = Transcript.All<Dom0CommandLine>();
        Assert.Equal(["128", "128,force"], cmdlines.Select(c => c.Swiotlb));
        Assert.All(cmdlines, c => Assert.Equal(128, c.SwiotlbSize));
    }

    [Fact]
    public void Output_of_commands_the_twin_does_not_model_is_counted_not_dropped()
    {
        Assert.Equal(1, Transcript.Statistics.Unrecognised);
        Assert.Contains("load average", Transcript.Statistics.UnrecognisedSamples[0].Text);
    }

    [Fact]
    public void Pasted_output_without_prompts_is_recognised_by_its_shape()
    {
        var offloads = Pasted.Single<NicOffloads>();
        Assert.Equal("eth5", offloads.Device);
        Assert.True(offloads.GenericReceiveOffload);
        Assert.Contains(offloads.Offloads, o => o.Name == "large-receive-offload" && !o.Enabled && o.Fixed);

        var pif = Pasted.Single<PifFact>();
        Assert.Equal(("eth5", "off"), (pif.Device, pif.EthtoolGro));

        Assert.Equal([("eth0", 1500), ("eth5", 9000)], Pasted.All<LinkMtu>().Select(l => (l.Device, l.Mtu)));
        Assert.All(Pasted.Events, e => Assert.Equal("xs62-a01", e.Host));
    }

    [Fact]
    public void An_xe_field_outside_any_record_is_malformed()
    {
        var parsed = Golden.Text("      MTU ( RO): 9000\n");

        Assert.Equal(1, parsed.Statistics.Malformed);
        Assert.Empty(parsed.Events);
    }
}

/// <summary>What the planner needs of pool HA and host liveness, read from xe pool-list / host-list params=all.</summary>
public class XePoolHaAndHostLivenessTests
{
    // xe pool-list params=all of a pool with HA on (XenServer 7.x field set: ha-statefiles names the state file VDI).
    private const string HaPool = """
        uuid ( RO)                            : 6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0
                              name-label ( RW): ha-pool
                        name-description ( RW):
                                  master ( RO): 0a1b2c3d-0001-4000-8000-000000000001
                              default-SR ( RW): 5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d
                              ha-enabled ( RO): true
                        ha-configuration ( RO): timeout: 60
                           ha-statefiles ( RO): 8e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b
            ha-host-failures-to-tolerate ( RW): 1
                      ha-plan-exists-for ( RO): 1
                     ha-allow-overcommit ( RW): false
                        ha-overcommitted ( RO): false

        """;

    // xe host-list params=all: one host halted (heartbeat lost), one disabled by an operator.
    private const string Hosts = """
        uuid ( RO)                    : 0a1b2c3d-0002-4000-8000-000000000002
                  name-label ( RW): xs-02
                     enabled ( RO): true
                     address ( RO): 10.0.0.2
                    hostname ( RO): xs-02
            software-version (MRO): product_version: 7.1.0; linux: 4.4.0+10
             host-metrics-live ( RO): false

        uuid ( RO)                    : 0a1b2c3d-0003-4000-8000-000000000003
                  name-label ( RW): xs-03
                     enabled ( RO): false
                     address ( RO): 10.0.0.3
                    hostname ( RO): xs-03
            software-version (MRO): product_version: 7.1.0; linux: 4.4.0+10
             host-metrics-live ( RO): true

        """;

    [Fact]
    public void Pool_list_gives_ha_enabled_its_state_file_VDI_and_the_host_failures_to_tolerate()
    {
        var pool = Golden.Text(HaPool).Single<PoolFact>();

        Assert.Equal((true, 1), (pool.HaEnabled, pool.HaHostFailuresToTolerate));
        Assert.Equal(["8e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"], pool.HaStatefiles);
    }

    [Fact]
    public void Host_list_gives_enabled_and_host_metrics_live_of_each_host()
    {
        var hosts = Golden.Text(Hosts).All<XenHostFact>();

        Assert.Equal([("xs-02", true, false), ("xs-03", false, true)], hosts.Select(h => (h.NameLabel!, h.Enabled!.Value, h.HostMetricsLive!.Value)));
    }

    [Fact]
    public void The_KB_pool_transcript_shows_HA_off_and_every_host_enabled_and_live()
    {
        var parsed = Golden.File_("kb-pool/kb-pool-transcript.txt");

        var pool = parsed.Single<PoolFact>();
        Assert.Equal(false, pool.HaEnabled);
        Assert.Empty(pool.HaStatefiles);
        Assert.All(parsed.All<XenHostFact>(), h => Assert.Equal((true, true), (h.Enabled, h.HostMetricsLive)));
        Assert.All(parsed.All<NicDriver>(), d => Assert.False(string.IsNullOrEmpty(d.FirmwareVersion)));
    }
}
