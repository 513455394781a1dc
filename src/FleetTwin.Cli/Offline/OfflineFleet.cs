using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Prediction;
using FleetTwin.Ingest.Reading;

namespace FleetTwin.Cli.Offline;

/// <summary>
/// An in-process twin built from files, for the offline verbs: every event read, the fleet inventory and each host's
/// state, as the grains would hold them.
/// </summary>
public sealed class OfflineFleet
{
    public const string NoFilesMessage = "no FILE given: asking a running twin is not available yet; pass log and xe/ethtool output files";

    public List<TwinEvent> Events { get; } = [];
    public FleetInventory Inventory { get; } = new();
    public Dictionary<string, HostState> Hosts { get; } = new(StringComparer.Ordinal);

    /// <summary>Reads <paramref name="files"/>; throws <see cref="LogSourceException"/> naming an unreadable one.</summary>
    public static OfflineFleet Read(IEnumerable<string> files, string? host, int? year)
    {
        var buffer = new TwinEventBuffer();
        foreach (var file in files)
            LogReader.ReadFile(file, buffer, new LogParserOptions { SourceName = file, DefaultHost = host, Year = year });
        return FromEvents(buffer.Events);
    }

    /// <summary>The fleet the events (read by the caller, in reading order) describe.</summary>
    public static OfflineFleet FromEvents(IEnumerable<TwinEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var fleet = new OfflineFleet();
        foreach (var e in events)
        {
            fleet.Events.Add(e);
            fleet.Inventory.Apply(e);
            if (e.Host is null)
                continue;
            if (!fleet.Hosts.TryGetValue(e.Host, out var state))
                fleet.Hosts[e.Host] = state = new HostState { Name = e.Host };
            state.Apply(e);
        }
        return fleet;
    }

    /// <summary>The configuration of <paramref name="host"/> when the inventory knows the host, else null.</summary>
    public HostConfiguration? ConfigurationOf(string host) =>
        Inventory.Hosts.TryGetValue(host, out var h) ? HostConfiguration.From(Inventory, h) : null;

    /// <summary>A prediction for every host the inventory or the logs know, at its latest uptime.</summary>
    public Dictionary<string, PanicPrediction> Predict(PredictorOptions? options = null)
    {
        var result = new Dictionary<string, PanicPrediction>(StringComparer.Ordinal);
        foreach (var name in Inventory.Hosts.Keys.Union(Hosts.Keys))
        {
            var state = Hosts.GetValueOrDefault(name) ?? new HostState { Name = name };
            result[name] = PanicPredictor.Assess(state, ConfigurationOf(name), null, options);
        }
        return result;
    }
}
