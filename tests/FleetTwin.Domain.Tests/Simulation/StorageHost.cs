using System.Globalization;
using System.Text;
using FleetTwin.Domain.Simulation;

namespace FleetTwin.Domain.Tests.Simulation;

/// <summary>
/// The KB incident's host as a scenario: one XenServer 6.2 dom0, bnx2x storage bond, storage traffic from VMs whose
/// number grows by one every half hour (the pool filling up), 4x bursts of 4 s a minute. Alone in its pool, so no
/// HA restart storm blurs the physics.
/// </summary>
internal static class StorageHost
{
    public static Scenario Yaml(int mib = 64, bool gro = false, int mtu = 9000, string duration = "12h", int seed = 1, int perVm = 20000, string extra = "")
    {
        var bursts = new StringBuilder();
        for (var minutes = 30; minutes < 72 * 60; minutes += 30)
            bursts.Append(CultureInfo.InvariantCulture, $"        - {{ at: {minutes}m, vmsPerHost: 1 }}\n");
        var yaml = $"""
            name: kb-host
            seed: {seed}
            duration: {duration}
            engine: exact
            pools:
              - name: kb
                hostNames: [kb-ix-4104]
                swiotlbMiB: {mib}
                vmsPerHost: 16
                nics:
                  - {"{"} device: eth4, busId: "0000:04:00.0", driver: bnx2x, mtu: {mtu}, gro: {(gro ? "on" : "off")} {"}"}
                  - {"{"} device: eth5, busId: "0000:04:00.1", driver: bnx2x, mtu: {mtu}, gro: {(gro ? "on" : "off")} {"}"}
                bonds:
                  - {"{"} name: bond0, members: [eth4, eth5], networks: [storage] {"}"}
                networks:
                  - name: storage
                    kind: storage
                    txPacketsPerSecondPerVm: {perVm}
                    bursts: {"{"} everySeconds: 60, lengthSeconds: 4, factor: 4 {"}"}
                vmStarts:
                  steadyPerHostPerHour: 0
                  bootBoostFactor: 1
                  bursts:
            {bursts}{extra}
            """;
        return ScenarioReader.Read(new StringReader(yaml), "kb-host.yaml");
    }
}
