using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;

namespace FleetTwin.Domain.Tests.Fleet;

/// <summary>The inventory keeps lspci's network controllers per host and bus id and joins them to ethtool -i's bus-info.</summary>
public class FleetInventoryPciTests
{
    private const string Bcm57810 = "Broadcom Inc. and subsidiaries NetXtreme II BCM57810 10 Gigabit Ethernet";

    private static FleetInventory With(params TwinEvent[] events)
    {
        var inventory = new FleetInventory();
        foreach (var e in events)
            inventory.Apply(e);
        return inventory;
    }

    [Fact]
    public void The_model_lspci_listed_at_a_bus_id_is_the_model_of_the_NIC_ethtool_found_there_whichever_came_first()
    {
        var inventory = With(
            new PciNic { Host = "xs-1", BusId = "0000:04:00.0", Class = "Ethernet controller", Model = Bcm57810, VendorId = "14e4", DeviceId = "168e" },
            new NicDriver { Host = "xs-1", Device = "eth4", Driver = "bnx2x", BusInfo = "0000:04:00.0" });

        var host = inventory.Hosts["xs-1"];
        var pci = host.PciNicOf(host.NicsByDevice["eth4"])!;
        Assert.Equal((Bcm57810, "14e4", "168e"), (pci.Model, pci.VendorId, pci.DeviceId));
    }

    [Fact]
    public void Bus_ids_are_joined_in_domain_form_whatever_case_or_short_form_either_side_used()
    {
        var inventory = With(
            new PciNic { Host = "xs-1", BusId = "04:00.1", Class = "Ethernet controller", Model = Bcm57810 },
            new NicDriver { Host = "xs-1", Device = "eth5", Driver = "bnx2x", BusInfo = "0000:04:00.1" },
            new PciNic { Host = "xs-1", BusId = "0000:0A:00.0", Class = "Ethernet controller", Model = "Intel Corporation 82599ES 10-Gigabit SFI/SFP+ Network Connection" },
            new NicDriver { Host = "xs-1", Device = "eth6", Driver = "ixgbe", BusInfo = "0000:0a:00.0" });

        var host = inventory.Hosts["xs-1"];
        Assert.Equal(["0000:04:00.1", "0000:0a:00.0"], host.PciNicsByBusId.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Bcm57810, host.PciNicOf(host.NicsByDevice["eth5"])!.Model);
        Assert.StartsWith("Intel", host.PciNicOf(host.NicsByDevice["eth6"])!.Model, StringComparison.Ordinal);
    }

    [Fact]
    public void A_later_listing_adds_to_an_earlier_one_and_another_host_s_listing_stays_its_own()
    {
        var inventory = With(
            new PciNic { Host = "xs-1", BusId = "0000:04:00.0", Class = "Ethernet controller", Model = Bcm57810, KernelDriver = "bnx2x" },
            new PciNic { Host = "xs-1", BusId = "0000:04:00.0", Class = "0200", ClassId = "0200", VendorId = "14e4", DeviceId = "168e" },
            new NicDriver { Host = "xs-2", Device = "eth4", Driver = "bnx2x", BusInfo = "0000:04:00.0" });

        var pci = inventory.Hosts["xs-1"].PciNicsByBusId["0000:04:00.0"];
        Assert.Equal((Bcm57810, "bnx2x", "14e4"), (pci.Model, pci.KernelDriver, pci.VendorId));
        var other = inventory.Hosts["xs-2"];
        Assert.Null(other.PciNicOf(other.NicsByDevice["eth4"]));
    }

    [Fact]
    public void Lspci_n_alone_names_the_model_by_its_PCI_ids()
    {
        var pci = new PciNicFacts { BusId = "0000:04:00.0", VendorId = "14e4", DeviceId = "168e" };

        Assert.Equal("PCI device [14e4:168e]", pci.ModelName);
        Assert.Null(new PciNicFacts { BusId = "0000:04:00.0" }.ModelName);
    }
}
