using System.Globalization;
using System.Text;
using FleetTwin.Domain.Events;

namespace FleetTwin.Cli.Output;

/// <summary>The readable one-line-per-event form of <c>fleettwin parse</c> (without --json).</summary>
internal static class EventTextFormatter
{
    public static string Format(TwinEvent e)
    {
        var line = new StringBuilder();
        line.Append(e.Time is { } t ? t.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture) : "-");
        line.Append(' ').Append(e.Uptime is { } u ? "[" + u.ToString("F6", CultureInfo.InvariantCulture) + "]" : "[-]");
        line.Append(' ').Append(e.Host ?? "-");
        line.Append(' ').Append(e.Type).Append(' ');
        line.Append(Details(e));
        line.Append("  (").Append(e.SourceFile).Append(':').Append(e.SourceLine.ToString(CultureInfo.InvariantCulture)).Append(')');
        return line.ToString();
    }

    private static string Details(TwinEvent e) => e switch
    {
        SwiotlbExhausted s => Invariant($"bytes={s.Bytes} device={s.Device ?? "-"} variant={s.Variant}")
            + (s.TotalSlots is { } total ? Invariant($" total_slots={total}") : "")
            + (s.UsedSlots is { } used ? Invariant($" used_slots={used}") : ""),
        KernelPanic p => Invariant($"message=\"{p.Message}\" comm={p.Comm ?? "-"} pid={p.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-"} trace={string.Join(" <- ", p.Trace)}"),
        KernelBoot b => $"kernel_version={b.KernelVersion} xenserver_release={b.XenServerRelease ?? "unknown"}{(b.XenServerRelease is not null && !b.ReleaseConfirmed ? " (unconfirmed)" : "")}",
        LogDaemonRestart r => $"daemon={r.Daemon}{(r.Version is null ? "" : " version=" + r.Version)}",
        Dom0CommandLine c => $"swiotlb={c.Swiotlb ?? "(default)"} command_line=\"{c.CommandLine}\"",
        VmStarted s => Invariant($"domid={s.Domid} evidence={s.Evidence}"),
        VmStopped s => Invariant($"domid={s.Domid} evidence={s.Evidence}"),
        NicOffloads o => $"device={o.Device ?? "-"} generic_receive_offload={Flag(o.GenericReceiveOffload)} offloads={o.Offloads.Length}",
        NicDriver d => $"device={d.Device ?? "-"} driver={d.Driver} version={d.Version ?? "-"} bus_info={d.BusInfo ?? "-"}",
        PciNic n => $"bus_id={n.BusId} class=\"{n.Class}\" model=\"{n.Model ?? "-"}\" ids={(n.VendorId is null ? "-" : n.VendorId + ":" + n.DeviceId)} kernel_driver={n.KernelDriver ?? "-"}",
        LinkMtu l => Invariant($"device={l.Device} mtu={l.Mtu} state={l.State ?? "-"}"),
        PifFact p => $"uuid={p.Uuid} device={p.Device ?? "-"} mtu={p.Mtu?.ToString(CultureInfo.InvariantCulture) ?? "-"} bond_master_of={p.BondMasterOf ?? "-"} bond_slave_of={p.BondSlaveOf ?? "-"} ethtool_gro={p.EthtoolGro ?? "-"}",
        BondFact b => $"uuid={b.Uuid} master={b.Master ?? "-"} slaves={string.Join(",", b.Slaves)}",
        XenHostFact h => $"uuid={h.Uuid} name={h.NameLabel ?? "-"} product_version={h.ProductVersion ?? "-"} linux={h.Linux ?? "-"}",
        PoolFact p => $"uuid={p.Uuid} name={p.NameLabel ?? "-"} master={p.Master ?? "-"}",
        HotfixFact h => $"{h.Kind} name={h.NameLabel ?? "-"} hosts={h.Hosts.Length}",
        VmFact v => $"uuid={v.Uuid} name={v.NameLabel ?? "-"} power_state={v.PowerState ?? "-"} resident_on={v.ResidentOn ?? "-"}",
        _ => "",
    };

    private static string Flag(bool? value) => value switch { true => "on", false => "off", null => "-" };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
