using System.Globalization;
using System.Text;
using FleetTwin.Domain.Allocation;

namespace FleetTwin.Domain.Simulation;

/// <summary>
/// Writes a simulated host's records as a syslog kern.log, in the kernel's own words (<see cref="SwiotlbKernelText"/>),
/// so the same parser and predictor that read real dom0 logs read a simulated fleet's.
/// </summary>
public static class KernLogWriter
{
    /// <summary>XenServer 6.2's dom0 kernel banner (the release the KB incident ran).</summary>
    public const string Banner = "Linux version 2.6.32.43-0.4.1.xs1.8.0.853.170791xen (geeko@buildhost) (gcc version 4.1.2 20080704 (Red Hat 4.1.2-51)) #1 SMP Mon Mar 3 06:36:39 EST 2014";

    public static void Write(TextWriter writer, HostOutcome host, DateTimeOffset start)
    {
        // In time order, as the kernel writes them: a step's records are kept as drawn (its VM starts before its
        // failures), and a reader takes uptime going back by more than a second for a reboot.
        foreach (var record in host.Records.OrderBy(r => r.Time))
        {
            switch (record.Kind)
            {
                case SimulatedRecordKind.Boot:
                    Line(writer, host.Name, start, record.Time, 0, Banner);
                    break;
                case SimulatedRecordKind.VmStarted:
                    Line(writer, host.Name, start, record.Time, record.Uptime, string.Create(CultureInfo.InvariantCulture, $"device vif{record.Bytes}.0 entered promiscuous mode"));
                    break;
                case SimulatedRecordKind.OutOfSpace:
                    Line(writer, host.Name, start, record.Time, record.Uptime, SwiotlbKernelText.OutOfSpace(SwiotlbKernelFlavour.XenServerClassicXen, record.Bytes, record.BusId!));
                    break;
                case SimulatedRecordKind.Panic:
                    // swiotlb_full() prints the out-of-space record, then panics (to-device: bnx2x_start_xmit's TX map).
                    Line(writer, host.Name, start, record.Time, record.Uptime, SwiotlbKernelText.OutOfSpace(SwiotlbKernelFlavour.XenServerClassicXen, record.Bytes, record.BusId!));
                    Line(writer, host.Name, start, record.Time, record.Uptime + 0.000010, SwiotlbKernelText.KernelPanicLine(DmaDirection.ToDevice));
                    break;
            }
        }
    }

    public static string ToText(HostOutcome host, DateTimeOffset start)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        Write(text, host, start);
        return text.ToString();
    }

    /// <summary>One syslog kern.log line: <c>MMM dd HH:mm:ss HOST kernel: [uptime] message</c>, at <paramref name="time"/> seconds after <paramref name="start"/>.</summary>
    public static void Line(TextWriter writer, string host, DateTimeOffset start, double time, double uptime, string message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var stamp = start.AddSeconds(time);
        var line = new StringBuilder(160);
        line.Append(stamp.ToString("MMM dd HH:mm:ss", CultureInfo.InvariantCulture)).Append(' ').Append(host).Append(" kernel: [")
            .Append(uptime.ToString("0.000000", CultureInfo.InvariantCulture).PadLeft(12)).Append("] ").Append(message).Append('\n');
        writer.Write(line.ToString());
    }
}
