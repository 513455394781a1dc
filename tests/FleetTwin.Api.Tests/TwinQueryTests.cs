using FleetTwin.Api.V1;
using Grpc.Core;

namespace FleetTwin.Api.Tests;

/// <summary>TwinService over gRPC against a silo fed the KB incident and its pool's transcript through IngestService.</summary>
public class TwinQueryTests(KbSiloFixture kb) : IClassFixture<KbSiloFixture>
{
    private TwinService.TwinServiceClient Twin => kb.Silo.Twin;

    [Fact]
    public async Task Member_hosts_belong_to_the_pool_their_master_lists()
    {
        // Only the master (4101) ran xe pool-list; its xe host-list names 4102 and 4104 as members of the same pool.
        string[] members = ["bn2-3c16-ix-4101", "bn2-3c16-ix-4102", "bn2-3c16-ix-4104"];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ListHostsResponse page;
        while (!members.All((page = await Twin.ListHostsAsync(new ListHostsRequest { Pool = KbSiloFixture.KbPool })).Hosts.Select(h => h.Name).Contains)
            && clock.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(50);

        Assert.Equal(members, page.Hosts.Select(h => h.Name).Order(StringComparer.Ordinal));
        Assert.Equal(KbSiloFixture.KbPool, (await Twin.GetHostAsync(new GetHostRequest { Name = KbSiloFixture.KbHost })).Pool);
    }

    [Fact]
    public async Task GetHost_returns_the_KB_host_with_its_18_exhaustions_its_panic_its_bnx2x_bond_members_and_critical_risk()
    {
        var host = await Twin.GetHostAsync(new GetHostRequest { Name = KbSiloFixture.KbHost });

        Assert.Equal(18, host.ExhaustionEvents);
        Assert.Equal(RiskLevel.Critical, host.Risk);
        Assert.Equal("6.2", host.XenserverRelease);
        var panic = Assert.Single(host.Panics);
        Assert.Contains("33302-byte", panic.Cause, StringComparison.Ordinal);
        var members = host.Nics.Where(n => n.BondSlaveOf.Length > 0).ToList();
        Assert.Equal(["eth4", "eth5"], members.Select(n => n.Device));
        Assert.All(members, n => Assert.Equal("bnx2x", n.Driver));
        Assert.All(members, n => Assert.Equal(9000, n.Mtu));
        Assert.All(members, n => Assert.False(n.Gro));
        var bond = Assert.Single(host.Bonds);
        Assert.Equal(members.Select(n => n.PifUuid), bond.MemberPifs.Order(StringComparer.Ordinal));
        Assert.Null(host.Swiotlb); // the twin does not run this host's bounce pool: no occupancy to show
    }

    [Fact]
    public async Task GetHost_answers_a_host_s_latest_state_after_each_new_batch_not_the_details_it_answered_before()
    {
        // The API keeps the last GetHost answer per host and serves it while the index names no later revision: a
        // later batch must make the next answers show it, however often the host was read in between. (Own silo: the
        // probe host's exhaustions would change the shared fixture's lists.)
        await using var silo = await ApiSilo.StartAsync();
        var twin = silo.Twin;
        const string host = "revision-probe-01";
        static string Exhaustion(double uptime) =>
            $"Sep 17 05:00:01 {host} kernel: [ {uptime:F6}] PCI-DMA: Out of SW-IOMMU space for 16384 bytes at device 0000:04:00.0";
        await silo.IngestLinesAsync([Exhaustion(100)], source: "probe-1.log");
        var first = await EventuallyAsync(twin, host, h => h.ExhaustionEvents == 1);
        for (var i = 0; i < 20; i++)
            Assert.Equal(1, (await twin.GetHostAsync(new GetHostRequest { Name = host })).ExhaustionEvents);

        Assert.True((await silo.IngestLinesAsync([Exhaustion(200), Exhaustion(300)], source: "probe-2.log")).Applied);
        var second = await twin.GetHostAsync(new GetHostRequest { Name = host }); // read your writes: no waiting after "applied"

        Assert.Equal(1, first.ExhaustionEvents);
        Assert.Equal(3, second.ExhaustionEvents);
        Assert.Equal(300, second.LastUptime);
    }

    /// <summary>GetHost until <paramref name="done"/> holds (the twin applies batches asynchronously), at most 10 s.</summary>
    private static async Task<Host> EventuallyAsync(TwinService.TwinServiceClient twin, string name, Func<Host, bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var host = await twin.GetHostAsync(new GetHostRequest { Name = name });
                if (done(host) || clock.Elapsed > TimeSpan.FromSeconds(10))
                    return host;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
            }
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task GetHost_of_an_unknown_host_is_NOT_FOUND_naming_the_field()
    {
        var status = await Rpc.FailureOf(() => Twin.GetHostAsync(new GetHostRequest { Name = "no-such-host" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, status.StatusCode);
        Assert.StartsWith("name: no host 'no-such-host'", status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "name: required")]
    [InlineData("two words", "name: 'two words' holds whitespace")]
    public async Task GetHost_with_a_bad_name_is_INVALID_ARGUMENT(string name, string message)
    {
        var status = await Rpc.FailureOf(() => Twin.GetHostAsync(new GetHostRequest { Name = name }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.StartsWith(message, status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListHosts_filters_combine_risk_driver_GRO_MTU_and_release()
    {
        var critical = await Twin.ListHostsAsync(new ListHostsRequest { MinRisk = RiskLevel.Critical });
        var bonded = await Twin.ListHostsAsync(new ListHostsRequest { Driver = "bnx2x", GroOff = true, Mtu = 9000, Release = "6.2" });
        var ixgbe = await Twin.ListHostsAsync(new ListHostsRequest { Driver = "ixgbe" });

        Assert.Equal([KbSiloFixture.KbHost], critical.Hosts.Select(h => h.Name));
        Assert.Contains(KbSiloFixture.KbHost, bonded.Hosts.Select(h => h.Name));
        Assert.All(bonded.Hosts, h => Assert.True(h.GroOff && h.Drivers.Contains("bnx2x") && h.Mtus.Contains(9000)));
        Assert.Equal(bonded.Hosts.Count, bonded.TotalMatches);
        Assert.Empty(ixgbe.Hosts);
    }

    [Fact]
    public async Task A_host_summary_carries_the_assessment_s_panic_probability_and_failure_rate_where_the_evidence_gives_them()
    {
        var all = await Twin.ListHostsAsync(new ListHostsRequest { PageSize = 500 });

        // The KB host is back from its swiotlb panic: the panic's page stands for a day (P = 1), and its new boot has
        // logged no failure yet, so no rate of its own.
        var kb = all.Hosts.Single(h => h.Name == KbSiloFixture.KbHost);
        Assert.True(kb.HasPanicProbability24H, kb.ToString());
        Assert.Equal(1.0, kb.PanicProbability24H);
        Assert.False(kb.HasExhaustionRatePerHour, kb.ToString());
        // A host without a logged failure has no probability of its own: unset, not 0.
        Assert.All(all.Hosts.Where(h => h.ExhaustionEvents == 0), h => Assert.False(h.HasPanicProbability24H, h.Name));
    }

    [Fact]
    public async Task ListHosts_pages_by_name_with_tokens_and_the_pages_add_up_to_the_whole_list()
    {
        var all = await Twin.ListHostsAsync(new ListHostsRequest());
        var paged = new List<string>();
        var request = new ListHostsRequest { PageSize = 1 };
        do
        {
            var page = await Twin.ListHostsAsync(request);
            Assert.True(page.Hosts.Count <= 1);
            paged.AddRange(page.Hosts.Select(h => h.Name));
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        // The fixture's silo knows the KB pool only: its master and two members (xe host-list), nothing else.
        Assert.Equal(["bn2-3c16-ix-4101", "bn2-3c16-ix-4102", KbSiloFixture.KbHost], paged);
        Assert.Equal(all.Hosts.Select(h => h.Name), paged);
        Assert.Equal(all.Hosts.Select(h => h.Name).Order(StringComparer.Ordinal), paged);
    }

    [Theory]
    [InlineData(-1, "", "page_size")]
    [InlineData(1001, "", "page_size")]
    [InlineData(0, "not base64!", "page_token")]
    [InlineData(0, "aGVsbG8=", "page_token")]
    public async Task ListHosts_with_a_bad_page_is_INVALID_ARGUMENT_naming_the_field(int pageSize, string token, string field)
    {
        var status = await Rpc.FailureOf(() => Twin.ListHostsAsync(new ListHostsRequest { PageSize = pageSize, PageToken = token }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.StartsWith(field + ":", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_page_token_used_with_other_filters_is_INVALID_ARGUMENT()
    {
        var first = await Twin.ListHostsAsync(new ListHostsRequest { PageSize = 1 });

        var status = await Rpc.FailureOf(() => Twin.ListHostsAsync(new ListHostsRequest { PageSize = 1, Driver = "bnx2x", PageToken = first.NextPageToken }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.StartsWith("page_token: issued for other filters", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListHosts_with_an_undefined_risk_or_MTU_is_INVALID_ARGUMENT_naming_the_field()
    {
        var risk = await Rpc.FailureOf(() => Twin.ListHostsAsync(new ListHostsRequest { MinRisk = (RiskLevel)42 }).ResponseAsync);
        var mtu = await Rpc.FailureOf(() => Twin.ListHostsAsync(new ListHostsRequest { Mtu = 70000 }).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, StatusCode.InvalidArgument), (risk.StatusCode, mtu.StatusCode));
        Assert.StartsWith("min_risk:", risk.Detail, StringComparison.Ordinal);
        Assert.StartsWith("mtu:", mtu.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetPoolSummary_counts_the_pool_master_host_and_names_the_critical_host()
    {
        var pool = await Twin.GetPoolSummaryAsync(new GetPoolSummaryRequest { Pool = KbSiloFixture.KbPool });

        Assert.Equal(KbSiloFixture.KbPool, pool.Name);
        Assert.Equal(3, pool.Hosts); // 4101 (master), 4102, 4104
        Assert.Equal("9c6290d6-bc21-4021-8eee-1c147b3a49e2", pool.MasterUuid);
        Assert.Equal(18, pool.ExhaustionEvents); // all of them on 4104: the KB incident's logs are the only logs
        Assert.Equal(1, pool.PanickedHosts);
        // Only the KB host is at risk, and it is critical: the other two have no kernel log, so no exhaustion.
        var atRisk = Assert.Single(pool.AtRisk);
        Assert.Equal((KbSiloFixture.KbHost, RiskLevel.Critical), (atRisk.Name, atRisk.Risk));
    }

    [Fact]
    public async Task GetPoolSummary_of_an_unknown_pool_is_NOT_FOUND_and_of_no_pool_INVALID_ARGUMENT()
    {
        var unknown = await Rpc.FailureOf(() => Twin.GetPoolSummaryAsync(new GetPoolSummaryRequest { Pool = "prod-9" }).ResponseAsync);
        var missing = await Rpc.FailureOf(() => Twin.GetPoolSummaryAsync(new GetPoolSummaryRequest()).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.StartsWith("pool: no pool 'prod-9'", unknown.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, missing.StatusCode);
        Assert.Equal("pool: required", missing.Detail);
    }

    [Fact]
    public async Task A_deadline_that_has_passed_is_DEADLINE_EXCEEDED()
    {
        var status = await Rpc.FailureOf(() => Twin.ListHostsAsync(new ListHostsRequest(), deadline: DateTime.UtcNow.AddMilliseconds(-1)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, status.StatusCode);
    }

    [Fact]
    public async Task Health_checking_says_SERVING_and_reflection_lists_the_fleettwin_services()
    {
        var health = new Grpc.Health.V1.Health.HealthClient(kb.Silo.Calls);
        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(kb.Silo.Calls);

        var check = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, check.Status);
        Assert.Contains("fleettwin.v1.TwinService", services);
        Assert.Contains("fleettwin.v1.AlertService", services);
        Assert.Contains("fleettwin.v1.IngestService", services);
        Assert.Contains("fleettwin.v1.PlanService", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }
}
