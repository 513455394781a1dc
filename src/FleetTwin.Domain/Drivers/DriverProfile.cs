using System.Text.Json;
using System.Text.Json.Serialization;
using FleetTwin.Domain.Allocation;

namespace FleetTwin.Domain.Drivers;

/// <summary>
/// How one NIC driver turns its configuration into bounce-pool demand in a XenServer dom0. Data, not code: the numbers
/// and their sources live in <c>Drivers/driver-profiles.json</c> (embedded), so adding a driver or correcting a ring
/// size is a data change.
/// </summary>
public sealed record DriverProfile
{
    /// <summary>Kernel driver name as <c>ethtool -i</c> prints it (<c>driver: bnx2x</c>).</summary>
    public required string Driver { get; init; }

    public required string Description { get; init; }

    /// <summary>RX buffers a port keeps posted by default, summed over its RX queues.</summary>
    public required int RxBuffersPerPortDefault { get; init; }

    public string? RxBuffersPerPortDefaultSource { get; init; }

    /// <summary>Bytes an RX buffer mapping adds to the MTU (headers, firmware alignment).</summary>
    public required int RxBufferOverheadBytes { get; init; }

    public string? RxBufferOverheadSource { get; init; }

    /// <summary>True when, with GRO off, a frame is received into one linear buffer sized for the MTU.</summary>
    public required bool RxLinearWhenGroOff { get; init; }

    /// <summary>True when the linear RX buffers stay even with GRO on (drivers without TPA/page-based receive).</summary>
    public bool RxBouncesWithGroOn { get; init; }

    public string? RxWithGroOn { get; init; }

    public required int TxRingEntriesPerQueue { get; init; }

    public string? TxRingSource { get; init; }

    /// <summary>Size mix of the linear part of transmitted skbs (what <c>ndo_start_xmit</c> maps with map_single).</summary>
    public required IReadOnlyList<TxSizeBand> TxLinearBytesMix { get; init; }

    public string? TxLinearBytesSource { get; init; }

    /// <summary>Mean time from map to TX completion (unmap): with Little's law, in-flight TX mappings = rate x this.</summary>
    public required int TxCompletionMicroseconds { get; init; }

    public string? TxCompletionSource { get; init; }

    public string? Confidence { get; init; }

    /// <summary>
    /// Share of failed TX mappings that are over the 32 KiB overflow buffer (so panic), when calibrated: the predictor
    /// uses it instead of deriving the share from <see cref="TxLinearBytesMix"/>.
    /// </summary>
    public double? FailedMappingOverflowShare { get; init; }

    public string? FailedMappingOverflowShareSource { get; init; }

    /// <summary>Bytes of one RX buffer mapping for <paramref name="mtu"/>.</summary>
    public int RxBufferBytes(int mtu) => mtu + RxBufferOverheadBytes;

    /// <summary>
    /// True when this port's RX buffers are bounced through the SWIOTLB: they are linear MTU-sized buffers (GRO off, or
    /// a driver whose receive path ignores GRO) and larger than a page (buffers of a page or less never need it).
    /// </summary>
    public bool RxBuffersBounce(int mtu, bool groOn) =>
        RxLinearWhenGroOff && (!groOn || RxBouncesWithGroOn) && RxBufferBytes(mtu) > SwiotlbGeometry.PageBytes;

    /// <summary>Draws the linear size of one transmitted skb from <see cref="TxLinearBytesMix"/>.</summary>
    public int SampleTxLinearBytes(Random random)
    {
        var total = 0.0;
        foreach (var band in TxLinearBytesMix)
            total += band.Weight;
        var pick = random.NextDouble() * total;
        foreach (var band in TxLinearBytesMix)
        {
            if (pick < band.Weight)
                return band.MinBytes == band.MaxBytes ? band.MinBytes : random.Next(band.MinBytes, band.MaxBytes + 1);
            pick -= band.Weight;
        }
        return TxLinearBytesMix[^1].MaxBytes;
    }
}

/// <summary>One band of a TX size mix.</summary>
public sealed record TxSizeBand(int MinBytes, int MaxBytes, double Weight, string? What = null);

/// <summary>The driver profiles FleetTwin knows, loaded from the embedded data file.</summary>
public sealed class DriverProfiles
{
    private readonly Dictionary<string, DriverProfile> _byDriver;

    private DriverProfiles(IEnumerable<DriverProfile> profiles) =>
        _byDriver = profiles.ToDictionary(p => p.Driver, StringComparer.OrdinalIgnoreCase);

    /// <summary>The profiles shipped with FleetTwin (<c>Drivers/driver-profiles.json</c>).</summary>
    public static DriverProfiles Embedded { get; } = LoadEmbedded();

    /// <summary>Known driver names.</summary>
    public IReadOnlyCollection<string> Drivers => _byDriver.Keys;

    /// <summary>The profile of <paramref name="driver"/>, or null when FleetTwin has no data for it.</summary>
    public DriverProfile? Find(string driver) => _byDriver.GetValueOrDefault(driver);

    /// <summary>The profile of <paramref name="driver"/>.</summary>
    /// <exception cref="KeyNotFoundException">No profile, naming the driver and the ones known.</exception>
    public DriverProfile Get(string driver) =>
        Find(driver) ?? throw new KeyNotFoundException($"no driver profile for '{driver}'; known drivers: {string.Join(", ", _byDriver.Keys)}");

    /// <summary>Reads profiles from JSON (the embedded file's shape); errors name the file and the problem.</summary>
    public static DriverProfiles Load(Stream json, string sourceName)
    {
        ProfileFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, DriverProfileJson.Default.ProfileFile);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{sourceName}: invalid driver profile JSON at {e.Path} (line {e.LineNumber + 1}): {e.Message}", e);
        }
        if (file?.Profiles is not { Count: > 0 } profiles)
            throw new InvalidDataException($"{sourceName}: no driver profiles");
        foreach (var p in profiles)
        {
            if (p.RxBuffersPerPortDefault <= 0 || p.TxRingEntriesPerQueue <= 0 || p.TxCompletionMicroseconds <= 0 || p.RxBufferOverheadBytes < 0)
                throw new InvalidDataException($"{sourceName}: profile '{p.Driver}' has a non-positive ring size or completion time");
            if (p.TxLinearBytesMix.Count == 0 || p.TxLinearBytesMix.Any(b => b.MinBytes <= 0 || b.MaxBytes < b.MinBytes || b.Weight < 0))
                throw new InvalidDataException($"{sourceName}: profile '{p.Driver}' has an empty or invalid txLinearBytesMix");
        }
        return new DriverProfiles(profiles);
    }

    private static DriverProfiles LoadEmbedded()
    {
        const string Name = "FleetTwin.Domain.driver-profiles.json";
        using var stream = typeof(DriverProfiles).Assembly.GetManifestResourceStream(Name)
            ?? throw new InvalidOperationException($"embedded resource {Name} is missing from FleetTwin.Domain");
        return Load(stream, "driver-profiles.json");
    }

    internal sealed record ProfileFile(IReadOnlyList<DriverProfile>? Profiles);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(DriverProfiles.ProfileFile))]
internal sealed partial class DriverProfileJson : JsonSerializerContext;
