using System.Collections.Concurrent;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Grains;
using Fleet = FleetTwin.Domain.Fleet;

namespace FleetTwin.Api.Services;

/// <summary>The host filters of ListHosts (null: not filtered).</summary>
internal sealed record HostFilter(string? Pool, Fleet.RiskLevel? MinRisk, string? Driver, bool? GroOff, int? Mtu, string? Release)
{
    public bool Matches(HostSummary h) =>
        (Pool is null || string.Equals(h.Pool, Pool, StringComparison.Ordinal))
        && (MinRisk is null || h.Risk >= MinRisk)
        && (Driver is null || Array.IndexOf(h.Drivers, Driver) >= 0)
        && (GroOff is null || h.GroOff == GroOff)
        && (Mtu is null || Array.IndexOf(h.Mtus, Mtu.Value) >= 0)
        && (Release is null || string.Equals(h.XenServerRelease, Release, StringComparison.Ordinal));
}

/// <summary>
/// This silo's copy of the host index, so a ListHosts of 10,000 hosts is one cheap grain call ("what changed since
/// version V?", usually nothing) plus in-memory filtering, not 10,000 host grain calls. A snapshot younger than
/// <see cref="FreshFor"/> is used as it is (at thousands of requests a second, asking the index grain for every one
/// was a grain call per request for nothing); refreshes are single-flight: concurrent requests share the one in
/// progress. Filter results are memoised per snapshot, so a repeated filter costs a binary search for its page.
/// </summary>
internal sealed class HostDirectory(IGrainFactory grains)
{
    /// <summary>How stale a list may be: far below what an operator or a polling tool can tell.</summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromMilliseconds(25);

    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, KnownHost> _hosts = new(StringComparer.Ordinal);
    private Snapshot _snapshot = Snapshot.Empty;
    private Task<Snapshot>? _refresh;
    private long _refreshAskedAt = long.MinValue;
    private Task<Snapshot>? _fresh;
    private long _snapshotAskedAt = long.MinValue;
    private long _invalidatedAt = long.MinValue;

    /// <summary>
    /// The index as of at most <see cref="FreshFor"/> ago and not before the last <see cref="Invalidate"/>, or (with
    /// <paramref name="latest"/>) as of a refresh started no earlier than this call (or one already in flight).
    /// </summary>
    public Task<Snapshot> CurrentAsync(bool latest = false)
    {
        lock (_lock)
        {
            if (!latest && _fresh is { } fresh && System.Diagnostics.Stopwatch.GetElapsedTime(_snapshotAskedAt) < FreshFor)
                return fresh;
            // A refresh in flight serves unless it asked the index before an invalidation (it may miss that ingest).
            if (_refresh is { IsCompleted: false } running && _refreshAskedAt >= _invalidatedAt)
                return running;
            _refreshAskedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            return _refresh = RefreshAsync(_snapshot, _refreshAskedAt);
        }
    }

    /// <summary>
    /// A host the index knows, with its grain reference and its last GetHost message. Both are kept for the silo's
    /// life: resolving a grain reference from a name cost more than the grain call itself (Orleans re-derives the
    /// grain interface type from its attributes on every <c>GetGrain</c>), and a host's details change only with a
    /// new revision in the index, so GetHost asks the grain and builds the message once per change.
    /// </summary>
    public KnownHost Host(string name) => _hosts.GetOrAdd(name, static (n, g) => new KnownHost(g.GetGrain<IHostGrain>(n)), grains);

    /// <summary>
    /// The index's summary of a host, or null when the index does not know it: a name missing from the current snapshot
    /// is looked up once more in the latest (a host that just came on line). A ValueTask: on GetHost's hot path it
    /// completes at once from the fresh snapshot, without allocating.
    /// </summary>
    public async ValueTask<(HostSummary? Summary, Snapshot Snapshot)> FindAsync(string name, CancellationToken ct)
    {
        var snapshot = await CurrentAsync().WaitAsync(ct);
        if (snapshot.ByName.TryGetValue(name, out var summary))
            return (summary, snapshot);
        snapshot = await CurrentAsync(latest: true).WaitAsync(ct);
        return (snapshot.ByName.GetValueOrDefault(name), snapshot);
    }

    /// <summary>The next <see cref="CurrentAsync"/> asks the index again (this silo just applied an ingest).</summary>
    public void Invalidate()
    {
        lock (_lock)
        {
            _fresh = null;
            _invalidatedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        }
    }

    private async Task<Snapshot> RefreshAsync(Snapshot current, long asked)
    {
        var delta = await grains.GetGrain<IHostIndexGrain>(TwinGrainKeys.Fleet).GetChanges(current.Epoch, current.Version);
        if (delta.Epoch == current.Epoch && delta.Changed.Length == 0)
            return Keep(current, asked);
        if (delta.Epoch != current.Epoch)
            _hosts.Clear(); // an index started afresh (new storage): the hosts' revisions start again too
        var byName = delta.Epoch == current.Epoch
            ? new Dictionary<string, HostSummary>(current.ByName, StringComparer.Ordinal)
            : new Dictionary<string, HostSummary>(StringComparer.Ordinal);
        foreach (var summary in delta.Changed)
            byName[summary.Name] = summary;
        return Keep(new Snapshot(delta.Epoch, delta.Version, byName), asked);
    }

    /// <summary>
    /// Keeps a refresh's snapshot unless a later-asked one is kept already (after an invalidation two refreshes can be in
    /// flight); it is fresh only when asked after the last invalidation.
    /// </summary>
    private Snapshot Keep(Snapshot snapshot, long askedAt)
    {
        lock (_lock)
        {
            if (askedAt < _snapshotAskedAt)
                return snapshot;
            _snapshot = snapshot;
            _snapshotAskedAt = askedAt;
            _fresh = askedAt >= _invalidatedAt ? Task.FromResult(snapshot) : null;
        }
        return snapshot;
    }

    internal sealed class Snapshot(string? epoch, long version, Dictionary<string, HostSummary> byName)
    {
        public static Snapshot Empty { get; } = new(null, 0, new Dictionary<string, HostSummary>(StringComparer.Ordinal));

        private const int MaxMemoisedFilters = 256;
        private const int MaxMemoisedPages = 1024;
        private readonly ConcurrentDictionary<HostFilter, HostSummary[]> _matches = new();
        private readonly ConcurrentDictionary<(HostFilter Filter, string? After, int PageSize), V1.ListHostsResponse> _pages = new();
        private readonly ConcurrentDictionary<string, V1.HostSummary> _messages = new(StringComparer.Ordinal);

        public string? Epoch { get; } = epoch;
        public long Version { get; } = version;
        public IReadOnlyDictionary<string, HostSummary> ByName { get; } = byName;
        public HostSummary[] Sorted { get; } = byName.Values.OrderBy(h => h.Name, StringComparer.Ordinal).ToArray();

        /// <summary>The API message of a summary, built once per snapshot (a page of 50 is then 50 look-ups, not 50 conversions).</summary>
        public V1.HostSummary MessageOf(HostSummary summary) => _messages.GetOrAdd(summary.Name, static (_, s) => ProtoMapping.ToProto(s), summary);

        /// <summary>
        /// A ListHosts page, built once per snapshot: dashboards and tools poll the same few filters, and a page of 50
        /// hosts built per request was the API's largest allocation (the reply is serialised, never changed).
        /// </summary>
        public V1.ListHostsResponse Page(HostFilter filter, string? after, int pageSize, Func<Snapshot, HostFilter, string?, int, V1.ListHostsResponse> build)
        {
            var key = (filter, after, pageSize);
            if (_pages.TryGetValue(key, out var page))
                return page;
            page = build(this, filter, after, pageSize);
            if (_pages.Count < MaxMemoisedPages)
                _pages.TryAdd(key, page);
            return page;
        }

        private const int MaxMemoisedViews = 256;
        private readonly ConcurrentDictionary<object, object> _views = new();

        /// <summary>
        /// A value derived from this snapshot, built once per snapshot and key (the console's risk-sorted lists and
        /// counts: an open page polls them and every browser asks the same few), never more than a bounded number.
        /// </summary>
        public T Memo<T>(object key, Func<Snapshot, T> build)
            where T : class
        {
            if (_views.TryGetValue(key, out var found))
                return (T)found;
            var value = build(this);
            if (_views.Count < MaxMemoisedViews)
                _views.TryAdd(key, value);
            return value;
        }

        /// <summary>Hosts matching <paramref name="filter"/>, sorted by name.</summary>
        public HostSummary[] Matching(HostFilter filter)
        {
            if (_matches.TryGetValue(filter, out var found))
                return found;
            var result = Array.FindAll(Sorted, filter.Matches);
            if (_matches.Count < MaxMemoisedFilters)
                _matches.TryAdd(filter, result);
            return result;
        }
    }

    /// <summary>A host's grain and the API message of the latest details it answered.</summary>
    internal sealed class KnownHost(IHostGrain grain)
    {
        private sealed record Rendered(HostDetails Details, V1.Host Message);

        private Rendered? _last;

        public IHostGrain Grain { get; } = grain;

        /// <summary>
        /// The message of the details last answered, when they are at least the revision the index names for the host;
        /// null when the grain must be asked (the host changed since, or the twin runs its bounce pool, whose
        /// occupancy moves without a revision).
        /// </summary>
        public V1.Host? CurrentMessage(HostSummary summary) =>
            !summary.RunsBouncePool && _last is { } last && last.Details.Revision >= summary.Revision ? last.Message : null;

        /// <summary>The message of <paramref name="details"/>, kept unless a later revision is already kept.</summary>
        public V1.Host MessageOf(HostDetails details)
        {
            var last = _last;
            if (last is not null && ReferenceEquals(last.Details, details))
                return last.Message;
            var rendered = new Rendered(details, ProtoMapping.ToProto(details.View, details.Nics, details.Bonds, details.Swiotlb));
            // Concurrent requests may answer out of order: never replace newer details with older ones.
            while (last is null || last.Details.Revision <= details.Revision)
            {
                var seen = Interlocked.CompareExchange(ref _last, rendered, last);
                if (ReferenceEquals(seen, last))
                    break;
                last = seen;
            }
            return rendered.Message;
        }
    }
}
