using System.Globalization;
using System.Text;

namespace FleetTwin.Load;

/// <summary>
/// A kern.log of a synthetic fleet: hosts interleaved line by line as a central syslog receiver writes them, with the
/// KB incident's record shapes — SWIOTLB exhaustion, vif and blkback lines of VM starts — among ordinary kernel chatter
/// the twin does not model (counted and skipped).
/// </summary>
internal static class SyntheticFleetLog
{
    public static byte[] Create(int hosts, int lines, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder(lines * 110);
        var uptime = new double[hosts];
        for (var h = 0; h < hosts; h++)
            uptime[h] = 1_000_000 + random.Next(1_000_000);
        var clock = new DateTime(2014, 9, 17, 5, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < lines; i++)
        {
            var h = random.Next(hosts);
            uptime[h] += random.NextDouble() * 0.5;
            clock = clock.AddMilliseconds(1);
            var prefix = string.Create(CultureInfo.InvariantCulture, $"{clock:MMM dd HH:mm:ss} xs-{h:00000} kernel: [{uptime[h],14:0.000000}] ");
            text.Append(prefix);
            switch (random.Next(10))
            {
                case 0 or 1 or 2:
                    text.Append(CultureInfo.InvariantCulture, $"PCI-DMA: Out of SW-IOMMU space for {random.Next(14_000, 32_000)} bytes at device 0000:04:00.{random.Next(2)}");
                    break;
                case 3:
                    text.Append(CultureInfo.InvariantCulture, $"device vif{random.Next(1, 400)}.0 entered promiscuous mode");
                    break;
                case 4:
                    text.Append(CultureInfo.InvariantCulture, $"blkback: ring-ref {random.Next(8, 64)}");
                    break;
                case 5:
                    text.Append("bond0: link status definitely up for interface eth5, 10000 Mbps full duplex.");
                    break;
                default:
                    text.Append(CultureInfo.InvariantCulture, $"nf_conntrack: table full, dropping packet. {random.Next(1000)}");
                    break;
            }
            text.Append('\n');
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
