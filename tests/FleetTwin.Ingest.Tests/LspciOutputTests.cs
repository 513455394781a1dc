using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Ingest.Tests;

/// <summary>
/// lspci output (pciutils lspci(8)) in transcripts and saved files: each network controller is one pci_nic (bus id in
/// domain form, model text, ids with -nn, kernel driver with -k); every other device line and detail line is read as
/// informational, so nothing of a listing counts as unrecognised.
/// </summary>
public class LspciOutputTests
{
    // lspci on an HP BL460c Gen8 running XenServer 6.2 (pciutils 3.1: pci.ids still says "Broadcom Corporation").
    private const string Plain = """
        [root@xs62-a01 ~]# lspci
        00:00.0 Host bridge: Intel Corporation Xeon E5/Core i7 DMI2 (rev 07)
        00:01.0 PCI bridge: Intel Corporation Xeon E5/Core i7 IIO PCI Express Root Port 1a (rev 07)
        00:1f.2 SATA controller: Intel Corporation C600/X79 series chipset 6-Port SATA AHCI Controller (rev 06)
        01:00.0 System peripheral: Hewlett-Packard Company Integrated Lights-Out Standard Slave Instrumentation & System Support (rev 05)
        02:00.0 RAID bus controller: Hewlett-Packard Company Smart Array Gen8 Controllers (rev 01)
        04:00.0 Ethernet controller: Broadcom Corporation NetXtreme II BCM57810 10 Gigabit Ethernet (rev 10)
        04:00.1 Ethernet controller: Broadcom Corporation NetXtreme II BCM57810 10 Gigabit Ethernet (rev 10)
        [root@xs62-a01 ~]# uptime
         10:12:01 up 32 days,  3:25,  1 user,  load average: 0.31, 0.29, 0.27

        """;

    private static Parsed Read(string text, string? host = null) =>
        Golden.Text(text, new LogParserOptions { SourceName = "test", Year = 2014, DefaultHost = host });

    [Fact]
    public void Plain_lspci_under_a_prompt_gives_one_fact_per_Ethernet_controller_in_domain_form_with_the_prompt_s_host()
    {
        var parsed = Read(Plain);

        var nics = parsed.All<PciNic>();
        Assert.Equal(["0000:04:00.0", "0000:04:00.1"], nics.Select(n => n.BusId));
        Assert.All(nics, n =>
        {
            Assert.Equal(("xs62-a01", "Ethernet controller", "Broadcom Corporation NetXtreme II BCM57810 10 Gigabit Ethernet", "10"), (n.Host, n.Class, n.Model, n.Revision));
            Assert.Null(n.VendorId);
            Assert.Null(n.KernelDriver);
        });
        Assert.Equal([7L, 8L], nics.Select(n => n.SourceLine));
    }

    [Fact]
    public void The_other_devices_of_a_listing_are_informational_not_unrecognised()
    {
        var parsed = Read(Plain);

        // The uptime line (a command the twin does not read) is the only unrecognised one.
        Assert.Equal(1, parsed.Statistics.Unrecognised);
        Assert.Contains("load average", parsed.Statistics.UnrecognisedSamples[0].Text);
        Assert.Equal(0, parsed.Statistics.Malformed);
        Assert.True(parsed.Statistics.Informational >= 5, $"{parsed.Statistics.Informational} informational");
    }

    [Fact]
    public void Lspci_nn_gives_the_class_code_and_the_vendor_and_device_ids_apart_from_the_model_text()
    {
        var parsed = Read("""
            [root@xs72-b03 ~]# lspci -nn
            00:14.0 USB controller [0c03]: Intel Corporation C610/X99 series chipset USB xHCI Host Controller [8086:8d31] (rev 05)
            03:00.0 Ethernet controller [0200]: Broadcom Inc. and subsidiaries NetXtreme II BCM57810 10 Gigabit Ethernet [14e4:168e] (rev 10)
            05:00.0 Ethernet controller [0200]: Intel Corporation 82599ES 10-Gigabit SFI/SFP+ Network Connection [8086:10fb] (rev 01)

            """);

        var nics = parsed.All<PciNic>();
        Assert.Equal(2, nics.Count);
        Assert.Equal(("0000:03:00.0", "Ethernet controller", "0200"), (nics[0].BusId, nics[0].Class, nics[0].ClassId));
        Assert.Equal(("Broadcom Inc. and subsidiaries NetXtreme II BCM57810 10 Gigabit Ethernet", "14e4", "168e", "10"), (nics[0].Model, nics[0].VendorId, nics[0].DeviceId, nics[0].Revision));
        Assert.Equal(("Intel Corporation 82599ES 10-Gigabit SFI/SFP+ Network Connection", "8086", "10fb"), (nics[1].Model, nics[1].VendorId, nics[1].DeviceId));
        Assert.All(nics, n => Assert.Equal("xs72-b03", n.Host));
        Assert.Equal(0, parsed.Statistics.Unrecognised);
    }

    [Fact]
    public void Lspci_n_alone_gives_the_numbers_and_no_model_text()
    {
        var nic = Read("""
            [root@xs62-a01 ~]# lspci -n -s 04:00.0
            04:00.0 0200: 14e4:168e (rev 10)

            """).Single<PciNic>();

        Assert.Equal(("0000:04:00.0", "0200", "0200", "14e4", "168e", "10"), (nic.BusId, nic.Class, nic.ClassId, nic.VendorId, nic.DeviceId, nic.Revision));
        Assert.Null(nic.Model);
    }

    [Fact]
    public void A_saved_lspci_D_k_without_a_prompt_is_read_by_its_shape_with_the_kernel_driver_and_subsystem_of_each_NIC()
    {
        // lspci -D -k > lspci.txt on the host, read with --host: tab-indented details, no blank lines.
        var parsed = Read(
            "0000:00:1f.2 SATA controller: Intel Corporation C600/X79 series chipset 6-Port SATA AHCI Controller (rev 06)\n" +
            "\tSubsystem: Hewlett-Packard Company Device 339e\n" +
            "\tKernel driver in use: ahci\n" +
            "0000:04:00.0 Ethernet controller: Broadcom Inc. and subsidiaries NetXtreme II BCM57810 10 Gigabit Ethernet (rev 10)\n" +
            "\tSubsystem: Hewlett-Packard Company FlexFabric 10Gb 2-port 534FLB Adapter\n" +
            "\tKernel driver in use: bnx2x\n" +
            "\tKernel modules: bnx2x\n" +
            "0000:05:00.0 Ethernet controller: Intel Corporation 82599ES 10-Gigabit SFI/SFP+ Network Connection (rev 01)\n" +
            "\tSubsystem: Intel Corporation Ethernet Server Adapter X520-2\n" +
            "\tKernel driver in use: ixgbe\n" +
            "\tKernel modules: ixgbe\n",
            host: "xs71-c02");

        var nics = parsed.All<PciNic>();
        Assert.Equal([("0000:04:00.0", "bnx2x", "Hewlett-Packard Company FlexFabric 10Gb 2-port 534FLB Adapter"), ("0000:05:00.0", "ixgbe", "Intel Corporation Ethernet Server Adapter X520-2")],
            nics.Select(n => (n.BusId, n.KernelDriver!, n.Subsystem!)));
        Assert.All(nics, n => Assert.Equal("xs71-c02", n.Host));
        Assert.Equal((0, 0), (parsed.Statistics.Unrecognised, parsed.Statistics.Malformed));
    }

    [Fact]
    public void Lspci_v_blocks_separated_by_blank_lines_keep_each_device_s_details_to_itself()
    {
        var parsed = Read(
            "[root@xs62-a01 ~]# lspci -v\n" +
            "00:1f.2 SATA controller: Intel Corporation C600/X79 series chipset 6-Port SATA AHCI Controller (rev 06) (prog-if 01 [AHCI 1.0])\n" +
            "\tSubsystem: Hewlett-Packard Company Device 339e\n" +
            "\tFlags: bus master, 66MHz, medium devsel, latency 0, IRQ 28\n" +
            "\tKernel driver in use: ahci\n" +
            "\n" +
            "04:00.0 Ethernet controller: Broadcom Corporation NetXtreme II BCM57810 10 Gigabit Ethernet (rev 10)\n" +
            "\tSubsystem: Hewlett-Packard Company FlexFabric 10Gb 2-port 534FLR-SFP+ Adapter\n" +
            "\tFlags: bus master, fast devsel, latency 0, IRQ 32\n" +
            "\tMemory at f7800000 (64-bit, prefetchable) [size=8M]\n" +
            "\tExpansion ROM at f7f80000 [disabled] [size=512K]\n" +
            "\tCapabilities: [48] Power Management version 3\n" +
            "\tCapabilities: [a0] MSI-X: Enable+ Count=32 Masked-\n" +
            "\tKernel driver in use: bnx2x\n" +
            "\tKernel modules: bnx2x\n" +
            "\n" +
            "07:00.0 VGA compatible controller: Matrox Electronics Systems Ltd. MGA G200EH (prog-if 00 [VGA controller])\n" +
            "\tSubsystem: Hewlett-Packard Company Device 3381\n" +
            "\tKernel driver in use: mgag200\n" +
            "\n");

        var nic = parsed.Single<PciNic>();
        Assert.Equal(("0000:04:00.0", "bnx2x", "Hewlett-Packard Company FlexFabric 10Gb 2-port 534FLR-SFP+ Adapter", 7L), (nic.BusId, nic.KernelDriver, nic.Subsystem, nic.SourceLine));
        Assert.Equal((0, 0), (parsed.Statistics.Unrecognised, parsed.Statistics.Malformed));
    }

    [Fact]
    public void A_wireless_Network_controller_is_a_NIC_and_its_model_keeps_the_parenthesis_of_its_name()
    {
        var nic = Read("""
            user@laptop:~$ lspci
            3a:00.0 Network controller: Intel Corporation Wireless 8265 / 8275 (rev 78)
            3b:00.0 Ethernet controller: Realtek Semiconductor Co., Ltd. RTL8111/8168/8411 PCI Express Gigabit Ethernet Controller (rev 15)

            """).All<PciNic>();

        Assert.Equal([("Network controller", "Intel Corporation Wireless 8265 / 8275"), ("Ethernet controller", "Realtek Semiconductor Co., Ltd. RTL8111/8168/8411 PCI Express Gigabit Ethernet Controller")],
            nic.Select(n => (n.Class, n.Model!)));
    }

    [Fact]
    public void Lspci_then_ethtool_i_in_one_transcript_gives_both_facts_joined_by_the_bus_id()
    {
        var parsed = Read("""
            [root@xs62-a01 ~]# lspci -nn | grep -i ethernet
            04:00.0 Ethernet controller [0200]: Broadcom Corporation NetXtreme II BCM57810 10 Gigabit Ethernet [14e4:168e] (rev 10)
            [root@xs62-a01 ~]# ethtool -i eth4
            driver: bnx2x
            version: 1.78.17-0
            firmware-version: bc 7.8.22 phy baa0:0105
            bus-info: 0000:04:00.0

            """);

        Assert.Equal(parsed.Single<PciNic>().BusId, parsed.Single<NicDriver>().BusInfo);
        Assert.Equal(0, parsed.Statistics.Unrecognised);
    }

    [Fact]
    public void A_device_line_without_any_text_after_its_class_is_not_read_as_lspci()
    {
        var parsed = Read("04:00.0 Ethernet controller:\n", host: "h");

        Assert.Empty(parsed.All<PciNic>());
        Assert.Equal(1, parsed.Statistics.Unrecognised);
    }

    [Fact]
    public void The_machine_readable_mm_form_is_not_read_and_is_counted_unrecognised()
    {
        var parsed = Read("""
            [root@xs62-a01 ~]# lspci -mm -s 04:00.0
            04:00.0 "Ethernet controller" "Broadcom Corporation" "NetXtreme II BCM57810 10 Gigabit Ethernet" -r10 "Hewlett-Packard Company" "FlexFabric 10Gb 2-port 534FLB Adapter"

            """);

        Assert.Empty(parsed.All<PciNic>());
        Assert.Equal(1, parsed.Statistics.Unrecognised);
    }
}
