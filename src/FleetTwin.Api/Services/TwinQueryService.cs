using System.Buffers.Text;
using System.Text;
using FleetTwin.Api.V1;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Grains;
using Grpc.Core;

namespace FleetTwin.Api.Services;

/// <summary>fleettwin.v1.TwinService: hosts and pools as the twin knows them.</summary>
internal sealed class TwinQueryService(IGrainFactory grains, HostDirectory directory) : TwinService.TwinServiceBase
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public override async Task<Host> GetHost(GetHostRequest request, ServerCallContext context)
    {
        var name = ApiErrors.RequireName(request.Name, "name");
        var ct = context.CancellationToken;
        var (summary, snapshot) = await directory.FindAsync(name, ct);
        if (summary is null)
            throw ApiErrors.NotFound("name", $"no host '{name}' in the twin ({snapshot.ByName.Count} hosts known)");
        // The details this silo last got are current when the index names no later revision: no grain call then.
        var host = directory.Host(name);
        return host.CurrentMessage(summary) ?? host.MessageOf(await host.Grain.GetDetails().WaitAsync(ct));
    }

    public override async Task<ListHostsResponse> ListHosts(ListHostsRequest request, ServerCallContext context)
    {
        var filter = FilterOf(request);
        var pageSize = request.PageSize switch
        {
            0 => DefaultPageSize,
            < 0 or > MaxPageSize => throw ApiErrors.InvalidArgument("page_size", $"{request.PageSize}: must be 1..{MaxPageSize} (0 means {DefaultPageSize})"),
            _ => request.PageSize,
        };
        var after = PageToken.Read(request.PageToken, filter);
        var snapshot = await directory.CurrentAsync().WaitAsync(context.CancellationToken);
        return snapshot.Page(filter, after, pageSize, BuildPage);
    }

    private static ListHostsResponse BuildPage(HostDirectory.Snapshot snapshot, HostFilter filter, string? after, int pageSize)
    {
        var matching = snapshot.Matching(filter);
        var start = 0;
        if (after is not null)
        {
            // Key-set paging: the first host after the last one returned, so pages stay stable as hosts are added.
            var lo = 0;
            var hi = matching.Length;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (string.CompareOrdinal(matching[mid].Name, after) <= 0) lo = mid + 1; else hi = mid;
            }
            start = lo;
        }
        var count = Math.Min(pageSize, matching.Length - start);
        var response = new ListHostsResponse { TotalMatches = matching.Length };
        response.Hosts.Capacity = count;
        for (var i = start; i < start + count; i++)
            response.Hosts.Add(snapshot.MessageOf(matching[i]));
        if (start + count < matching.Length)
            response.NextPageToken = PageToken.Write(matching[start + count - 1].Name, filter);
        return response;
    }

    public override async Task<PoolSummary> GetPoolSummary(GetPoolSummaryRequest request, ServerCallContext context)
    {
        var pool = ApiErrors.RequireName(request.Pool, "pool");
        var ct = context.CancellationToken;
        var snapshot = await directory.CurrentAsync().WaitAsync(ct);
        var hosts = snapshot.Matching(new HostFilter(pool, null, null, null, null, null));
        var view = await grains.GetGrain<IPoolGrain>(pool).GetView().WaitAsync(ct);
        if (hosts.Length == 0 && view.Hosts.Length == 0)
        {
            var known = snapshot.Sorted.Select(h => h.Pool).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(20).ToList();
            throw ApiErrors.NotFound("pool", $"no pool '{pool}' in the twin ({(known.Count == 0 ? "no pools known" : "pools: " + string.Join(", ", known))})");
        }
        var summary = new PoolSummary
        {
            Name = pool,
            MasterUuid = view.MasterUuid ?? "",
            Hosts = hosts.Length,
            ExhaustionEvents = hosts.Sum(h => h.ExhaustionEvents),
            PanickedHosts = hosts.Count(h => h.Panics > 0),
        };
        foreach (var group in hosts.GroupBy(h => h.Risk).OrderByDescending(g => g.Key))
            summary.ByRisk.Add(new RiskCount { Risk = ProtoMapping.ToProto(group.Key), Hosts = group.Count() });
        summary.AtRisk.AddRange(hosts.Where(h => h.Risk >= Domain.Fleet.RiskLevel.Warning)
            .OrderByDescending(h => h.Risk).ThenByDescending(h => h.ExhaustionEvents).ThenBy(h => h.Name, StringComparer.Ordinal)
            .Select(ProtoMapping.ToProto));
        summary.Releases.AddRange(hosts.Select(h => h.XenServerRelease).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        return summary;
    }

    private static HostFilter FilterOf(ListHostsRequest r)
    {
        static string? Text(string value, string field)
        {
            if (value.Length == 0)
                return null;
            ApiErrors.CheckName(value, field);
            return value;
        }
        if (r.Mtu is < 0 or > 65535)
            throw ApiErrors.InvalidArgument("mtu", $"{r.Mtu}: an MTU is 68..65535 (0: no filter)");
        return new HostFilter(Text(r.Pool, "pool"), ProtoMapping.FromProtoFilter(r.MinRisk, "min_risk"), Text(r.Driver, "driver"),
            r.HasGroOff ? r.GroOff : null, r.Mtu == 0 ? null : r.Mtu, Text(r.Release, "release"));
    }

    /// <summary>Opaque page tokens: the last host name returned, bound to the filters it was issued for.</summary>
    private static class PageToken
    {
        public static string Write(string lastName, HostFilter filter) =>
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"v1\n{Fingerprint(filter)}\n{lastName}"));

        public static string? Read(string token, HostFilter filter)
        {
            if (token.Length == 0)
                return null;
            if (!Base64.IsValid(token))
                throw ApiErrors.InvalidArgument("page_token", "not a token this API issued");
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(token)).Split('\n');
            if (parts.Length != 3 || parts[0] != "v1")
                throw ApiErrors.InvalidArgument("page_token", "not a token this API issued");
            if (parts[1] != Fingerprint(filter))
                throw ApiErrors.InvalidArgument("page_token", "issued for other filters: repeat the request's filters unchanged when paging");
            return parts[2];
        }

        private static string Fingerprint(HostFilter f) =>
            Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(
                $"{f.Pool}\u0001{f.MinRisk}\u0001{f.Driver}\u0001{f.GroOff}\u0001{f.Mtu}\u0001{f.Release}")))[..16];
    }
}
