namespace FleetTwin.Domain.Fleet;

/// <summary>
/// PCI addresses in the one form facts are joined by: <c>domain:bus:device.function</c>, lower-case hex, as ethtool -i
/// bus-info and the kernel's dev_name() print them (<c>0000:04:00.0</c>). lspci without <c>-D</c> leaves out the
/// domain when it is 0000 (lspci(8)), so <c>04:00.0</c> is <c>0000:04:00.0</c>.
/// </summary>
public static class PciBusId
{
    /// <summary>The domain form of <paramref name="busId"/>; text that is no PCI address is returned as given (trimmed).</summary>
    public static string Normalise(string busId)
    {
        ArgumentNullException.ThrowIfNull(busId);
        var id = busId.Trim().ToLowerInvariant();
        return IsShortForm(id) ? "0000:" + id : id;
    }

    /// <summary><c>bb:dd.f</c>: bus and device in two hex digits each, function 0-7.</summary>
    private static bool IsShortForm(string id) =>
        id.Length == 7 && Uri.IsHexDigit(id[0]) && Uri.IsHexDigit(id[1]) && id[2] == ':' && Uri.IsHexDigit(id[3]) && Uri.IsHexDigit(id[4])
        && id[5] == '.' && id[6] is >= '0' and <= '7';
}
