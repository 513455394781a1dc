using FleetTwin.Cli.Offline;
using FleetTwin.Domain.Planning;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Grains;
using FleetTwin.Twin.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace FleetTwin.Api.Tests;

/// <summary>
/// The API's fleet-wide grain states survive the serializer grain storage uses (Redis in cluster mode writes exactly
/// these bytes): a plan from the restored inventory is the plan from the original.
/// </summary>
public class GrainStateSerializationTests
{
    private static T RoundTrip<T>(T value)
    {
        using var provider = new ServiceCollection().AddTwinSerialization().BuildServiceProvider();
        var serializer = provider.GetRequiredService<Serializer>();
        return serializer.Deserialize<T>(serializer.SerializeToArray(value))!;
    }

    [Fact]
    public void The_fleet_inventory_state_round_trips_and_plans_the_same()
    {
        var offline = OfflineFleet.Read([Golden.Path("kb-incident/kern.log"), Golden.Path("kb-incident/dom0.log"), Golden.Path("kb-pool/kb-pool-transcript.txt")], KbSiloFixture.KbHost, 2014);
        var state = new InventoryGrainState { Inventory = offline.Inventory };

        var restored = RoundTrip(state);

        Assert.Equal(
            PlanJson.Render(RollingPlanner.Plan(offline.Inventory, KbSiloFixture.KbPool, offline.Predict())),
            PlanJson.Render(RollingPlanner.Plan(restored.Inventory, KbSiloFixture.KbPool, offline.Predict())));
    }

    [Fact]
    public void The_host_index_and_alert_log_states_round_trip()
    {
        var summary = new HostSummary { Name = "h1", Pool = "p", Risk = Domain.Fleet.RiskLevel.Critical, Drivers = ["bnx2x"], Mtus = [1500, 9000], GroOff = true, ExhaustionEvents = 18, Panics = 1, Version = 7 };
        var index = new HostIndexState { Epoch = "e", Version = 7, Hosts = { ["h1"] = summary } };
        var log = new AlertLogState { Epoch = "e", LastSequence = 1, Kept = [new TwinAlert { Sequence = 1, Host = "h1", Kind = AlertKind.Panic, Risk = Domain.Fleet.RiskLevel.Critical, PanicMessage = "DMA: Random memory could be DMA read", RaisedAt = DateTimeOffset.UnixEpoch }] };

        var restoredIndex = RoundTrip(index);
        var restoredLog = RoundTrip(log);

        Assert.True(restoredIndex.Hosts["h1"].SameAs(summary));
        Assert.Equal(7, restoredIndex.Hosts["h1"].Version);
        Assert.Equal(log.Kept[0], restoredLog.Kept[0]);
    }
}
