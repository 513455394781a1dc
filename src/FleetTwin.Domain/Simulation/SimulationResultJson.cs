using System.Text;
using System.Text.Json;

namespace FleetTwin.Domain.Simulation;

/// <summary>
/// Results as JSON: <c>fleettwin simulate --out</c>'s results.json (<see cref="Render"/>) and the what-if of a pool the
/// live twin runs (<see cref="RenderWhatIf"/>, PlanService.RunScenario's result_json). One writer, so a run reads the
/// same wherever it was made.
/// </summary>
public static class SimulationResultJson
{
    /// <summary>results.json: the scenario, the baseline and (when run) the run with interventions, per pool and intervention.</summary>
    public static string Render(SimulationResult baseline, SimulationResult? withInterventions) => Write(json =>
    {
        json.WriteStartObject();
        Header(json, baseline);
        Run(json, "baseline", baseline, hosts: false);
        if (withInterventions is not null)
            Run(json, "with_interventions", withInterventions, hosts: false);
        json.WriteEndObject();
    });

    /// <summary>
    /// A pool what-if: the scenario as built (layout host, storage bond, traffic, changes, assumptions), baseline and
    /// what-if with each host's outcome, and the one-paragraph summary.
    /// </summary>
    public static string RenderWhatIf(PoolWhatIf result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var built = result.Scenario;
        var pool = built.Pool;
        return Write(json =>
        {
            json.WriteStartObject();
            json.WriteString("pool", pool.Name);
            Header(json, result.Baseline);
            json.WriteNumber("simulated_hours", Math.Round(built.Scenario.DurationSeconds / 3600, 4));
            json.WriteString("layout_host", built.LayoutHost);
            json.WriteString("storage_bond", built.StorageBond);
            json.WriteString("xenserver_release", pool.Release);
            json.WriteNumber("swiotlb_mib", pool.SwiotlbMiB);
            json.WriteStartArray("nics");
            foreach (var nic in pool.Nics)
            {
                json.WriteStartObject();
                json.WriteString("device", nic.Device);
                json.WriteString("bus_id", nic.BusId);
                json.WriteString("driver", nic.Driver.Driver);
                json.WriteNumber("mtu", nic.Mtu);
                json.WriteBoolean("gro", nic.Gro);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("bonds");
            foreach (var bond in pool.Bonds)
            {
                json.WriteStartObject();
                json.WriteString("name", bond.Name);
                json.WriteString("network", bond.Networks[0]);
                json.WriteStartArray("members");
                foreach (var m in bond.Members)
                    json.WriteStringValue(m);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            // The traffic the run used (the documented defaults or the request's overrides), named as the request names it.
            var traffic = built.Traffic;
            json.WriteStartObject("traffic");
            json.WriteNumber("storage_tx_packets_per_second_per_vm", traffic.StorageTxPacketsPerSecondPerVm);
            json.WriteNumber("vm_tx_packets_per_second_per_vm", traffic.VmTxPacketsPerSecondPerVm);
            json.WriteStartObject("storage_diurnal");
            json.WriteNumber("peak_hour", traffic.StorageDiurnal.PeakHour);
            json.WriteNumber("trough_factor", traffic.StorageDiurnal.TroughFactor);
            json.WriteEndObject();
            json.WriteStartObject("storage_bursts");
            json.WriteNumber("every_seconds", traffic.StorageBursts.EverySeconds);
            json.WriteNumber("length_seconds", traffic.StorageBursts.LengthSeconds);
            json.WriteNumber("factor", traffic.StorageBursts.Factor);
            json.WriteEndObject();
            json.WriteStartObject("vms_per_host");
            foreach (var host in pool.HostNames)
                json.WriteNumber(host, pool.VmsOn(host));
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteStartArray("changes");
            for (var i = 0; i < built.Changes.Count; i++)
            {
                json.WriteStartObject();
                json.WriteString("host", built.Changes[i].Host ?? "");
                json.WriteString("setting", built.Changes[i].Setting);
                json.WriteString("value", built.Changes[i].Value);
                json.WriteString("label", built.Scenario.Interventions[i].Label);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("assumptions");
            foreach (var a in built.Assumptions)
                json.WriteStringValue(a);
            json.WriteEndArray();
            Run(json, "baseline", result.Baseline, hosts: true);
            if (result.WhatIf is not null)
                Run(json, "what_if", result.WhatIf, hosts: true);
            json.WriteString("summary", result.Summary());
            json.WriteEndObject();
        });
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            body(json);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Header(Utf8JsonWriter json, SimulationResult baseline)
    {
        json.WriteString("scenario", baseline.Scenario.Name);
        json.WriteNumber("seed", baseline.Scenario.Seed);
        json.WriteString("engine", baseline.Scenario.Engine.ToString().ToLowerInvariant());
        json.WriteNumber("hosts", baseline.Hosts.Count);
        json.WriteNumber("simulated_seconds", baseline.Scenario.DurationSeconds);
    }

    private static void Run(Utf8JsonWriter json, string name, SimulationResult run, bool hosts)
    {
        json.WriteStartObject(name);
        json.WriteNumber("panics", run.Panics);
        json.WriteNumber("exhaustion_events", run.Exhaustions);
        json.WriteNumber("hosts_at_risk", run.HostsAtRisk);
        json.WriteNumber("wall_seconds", Math.Round(run.Wall.TotalSeconds, 3));
        json.WriteNumber("host_seconds_per_wall_second", Math.Round(run.HostSecondsPerWallSecond));
        json.WriteNumber("calibrated_configurations", run.Calibrations);
        json.WriteStartArray("panics_per_day");
        foreach (var n in run.PanicsPerDay())
            json.WriteNumberValue(n);
        json.WriteEndArray();
        json.WriteStartArray("pools");
        foreach (var pool in run.Scenario.Pools)
        {
            var poolHosts = run.Hosts.Where(h => h.Pool == pool.Name).ToList();
            json.WriteStartObject();
            json.WriteString("pool", pool.Name);
            json.WriteNumber("hosts", poolHosts.Count);
            json.WriteNumber("panics", poolHosts.Sum(h => h.Panics.Count));
            json.WriteNumber("exhaustion_events", poolHosts.Sum(h => h.Exhaustions));
            json.WriteNumber("hosts_at_risk", poolHosts.Count(h => h.AtRisk));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("interventions");
        foreach (var i in run.Scenario.Interventions)
        {
            json.WriteStartObject();
            json.WriteString("label", i.Label);
            json.WriteString("action", i.Action.ToString());
            json.WriteString("pool", i.Pool);
            json.WriteNumber("at_seconds", i.AtSeconds);
            json.WriteNumber("hosts_reached", run.Hosts.Count(h => h.Interventions.Contains(i.Label)));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        if (hosts)
        {
            json.WriteStartArray("hosts");
            foreach (var h in run.Hosts)
                Host(json, h);
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    /// <summary>One host's outcome: the columns of hosts.csv, plus the first panic's size and the changes it ran with.</summary>
    private static void Host(Utf8JsonWriter json, HostOutcome h)
    {
        json.WriteStartObject();
        json.WriteString("host", h.Name);
        json.WriteNumber("panics", h.Panics.Count);
        if (h.Panics.Count > 0)
        {
            json.WriteNumber("first_panic_seconds", Math.Round(h.Panics[0].Time, 3));
            json.WriteNumber("first_panic_bytes", h.Panics[0].Bytes);
            json.WriteString("first_panic_device", h.Panics[0].BusId);
        }
        else
        {
            json.WriteNull("first_panic_seconds");
        }
        json.WriteNumber("exhaustion_events", h.Exhaustions);
        json.WriteNumber("vm_starts", h.VmStarts);
        json.WriteBoolean("at_risk", h.AtRisk);
        json.WriteNumber("standing_rx_share", Math.Round(h.StandingRxShare, 4));
        json.WriteNumber("peak_occupancy", Math.Round(h.Occupancy.Count > 0 ? h.Occupancy.Max() : 0, 4));
        json.WriteStartArray("changes");
        foreach (var label in h.Interventions)
            json.WriteStringValue(label);
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
