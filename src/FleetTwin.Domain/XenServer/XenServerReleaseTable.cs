using System.Reflection;
using System.Text.Json;

namespace FleetTwin.Domain.XenServer;

/// <summary>One row of the release table: a dom0 kernel release pattern and the XenServer release that ships it.</summary>
/// <param name="KernelPattern">Kernel release pattern; <c>*</c> matches any run of characters.</param>
/// <param name="Release">XenServer release, e.g. <c>6.2</c>.</param>
/// <param name="Confirmed">False when the row is believed but not yet sourced well enough to rely on.</param>
/// <param name="Source">Where the fact comes from.</param>
public sealed record XenServerRelease(string KernelPattern, string Release, bool Confirmed, string Source);

/// <summary>
/// Maps a dom0 kernel release (from the <c>Linux version</c> banner or <c>software-version:linux</c>) to the
/// XenServer release. Kept as data (xenserver-releases.json, embedded) so each row carries its source.
/// </summary>
public sealed class XenServerReleaseTable
{
    private const string ResourceName = "FleetTwin.Domain.xenserver-releases.json";
    private static readonly Lazy<XenServerReleaseTable> Embedded = new(LoadEmbedded);

    public XenServerReleaseTable(IReadOnlyList<XenServerRelease> rows) => Rows = rows;

    /// <summary>The table shipped with FleetTwin.</summary>
    public static XenServerReleaseTable Default => Embedded.Value;

    public IReadOnlyList<XenServerRelease> Rows { get; }

    /// <summary>The first row whose pattern matches <paramref name="kernelVersion"/>, or null when none does.</summary>
    public XenServerRelease? Find(string kernelVersion)
    {
        foreach (var row in Rows)
        {
            if (Matches(row.KernelPattern, kernelVersion))
            {
                return row;
            }
        }
        return null;
    }

    /// <summary>Glob match with <c>*</c> only (ordinal): kernel releases contain dots and dashes, nothing regex-worthy.</summary>
    internal static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int star = pattern.IndexOf('*');
        if (star < 0)
        {
            return pattern.SequenceEqual(text);
        }
        if (!text.StartsWith(pattern[..star], StringComparison.Ordinal))
        {
            return false;
        }
        var restPattern = pattern[(star + 1)..];
        var restText = text[star..];
        if (restPattern.IsEmpty)
        {
            return true;
        }
        for (int i = 0; i <= restText.Length; i++)
        {
            if (Matches(restPattern, restText[i..]))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Parses the JSON table; throws <see cref="InvalidDataException"/> naming the bad row.</summary>
    public static XenServerReleaseTable Parse(Stream json, string name)
    {
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("releases", out var releases) || releases.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{name}: expected a 'releases' array");
        }
        var rows = new List<XenServerRelease>();
        int index = 0;
        foreach (var row in releases.EnumerateArray())
        {
            rows.Add(new XenServerRelease(
                Required(row, "kernel_pattern", name, index),
                Required(row, "xenserver_release", name, index),
                row.TryGetProperty("confirmed", out var c) && c.ValueKind == JsonValueKind.True,
                Required(row, "source", name, index)));
            index++;
        }
        return new XenServerReleaseTable(rows);
    }

    private static string Required(JsonElement row, string property, string name, int index)
    {
        if (row.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
        {
            return text;
        }
        throw new InvalidDataException($"{name}: release row {index} has no '{property}'");
    }

    private static XenServerReleaseTable LoadEmbedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing from FleetTwin.Domain");
        return Parse(stream, ResourceName);
    }
}
