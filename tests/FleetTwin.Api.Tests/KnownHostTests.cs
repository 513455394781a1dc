using FleetTwin.Api.Services;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Api.Tests;

/// <summary>
/// The API's per-host GetHost cache (<see cref="HostDirectory.KnownHost"/>): an answer is reused only while the host
/// index names no later revision of the host, and never for a host whose bounce pool the twin runs.
/// </summary>
public class KnownHostTests
{
    private static HostDetails Details(long revision, long exhaustions) =>
        new(new HostView { Name = "h1", ExhaustionEvents = exhaustions, Risk = "ok" }, [], [], SwiotlbView.NotRun, revision);

    private static HostSummary Summary(long revision, bool runsBouncePool = false) =>
        new() { Name = "h1", Revision = revision, RunsBouncePool = runsBouncePool };

    [Fact]
    public void Nothing_is_served_before_the_grain_answered_once()
    {
        var host = new HostDirectory.KnownHost(null!);

        Assert.Null(host.CurrentMessage(Summary(0)));
    }

    [Fact]
    public void The_last_answer_is_served_while_the_index_names_its_revision_or_an_earlier_one()
    {
        var host = new HostDirectory.KnownHost(null!);
        var message = host.MessageOf(Details(revision: 5, exhaustions: 2));

        Assert.Same(message, host.CurrentMessage(Summary(5)));
        Assert.Same(message, host.CurrentMessage(Summary(4))); // the index lags the grain: the answer is newer still
        Assert.Null(host.CurrentMessage(Summary(6)));          // the host changed since: ask its grain
    }

    [Fact]
    public void A_host_whose_bounce_pool_the_twin_runs_is_always_asked()
    {
        var host = new HostDirectory.KnownHost(null!);
        host.MessageOf(Details(revision: 5, exhaustions: 2));

        Assert.Null(host.CurrentMessage(Summary(5, runsBouncePool: true)));
    }

    [Fact]
    public void An_older_answer_arriving_late_does_not_replace_a_newer_one()
    {
        var host = new HostDirectory.KnownHost(null!);
        var newer = host.MessageOf(Details(revision: 7, exhaustions: 3));
        var older = host.MessageOf(Details(revision: 6, exhaustions: 2));

        Assert.Equal(2, older.ExhaustionEvents); // that request still gets what its grain call answered
        Assert.Same(newer, host.CurrentMessage(Summary(7)));
    }

    [Fact]
    public void The_same_details_are_converted_once()
    {
        var host = new HostDirectory.KnownHost(null!);
        var details = Details(revision: 1, exhaustions: 1);

        Assert.Same(host.MessageOf(details), host.MessageOf(details));
    }
}
