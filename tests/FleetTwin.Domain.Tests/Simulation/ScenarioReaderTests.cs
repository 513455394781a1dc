using FleetTwin.Domain.Simulation;

namespace FleetTwin.Domain.Tests.Simulation;

/// <summary>Bad scenario files are refused with the file, line, column and field path of the problem.</summary>
public class ScenarioReaderTests
{
    private const string Good = """
        name: t
        duration: 1h
        pools:
          - name: p
            hosts: 2
            nics:
              - { device: eth4, busId: "0000:04:00.0", driver: bnx2x, mtu: 9000 }
            bonds:
              - { name: bond0, members: [eth4], networks: [storage] }
            networks:
              - { name: storage, kind: storage, txPacketsPerSecondPerVm: 1000 }
        """;

    private static ScenarioException Bad(string yaml) =>
        Assert.Throws<ScenarioException>(() => ScenarioReader.Read(new StringReader(yaml), "s.yaml"));

    [Fact]
    public void A_good_file_expands_its_hosts_with_defaults()
    {
        var s = ScenarioReader.Read(new StringReader(Good), "s.yaml");
        Assert.Equal(["p-h001", "p-h002"], s.Pools[0].HostNames);
        Assert.Equal((64, 3600.0, SimulationEngineKind.Fast), (s.Pools[0].SwiotlbMiB, s.DurationSeconds, s.Engine));
        Assert.False(s.Pools[0].Nics[0].Gro);
    }

    [Fact]
    public void JSON_reads_the_same_as_YAML()
    {
        const string Json = """{ "name": "t", "duration": "1h", "pools": [ { "name": "p", "hosts": 2, "nics": [ { "device": "eth4", "busId": "0000:04:00.0", "driver": "bnx2x", "mtu": 9000 } ], "bonds": [ { "name": "bond0", "members": ["eth4"], "networks": ["storage"] } ], "networks": [ { "name": "storage", "kind": "storage", "txPacketsPerSecondPerVm": 1000 } ] } ] }""";
        var s = ScenarioReader.Read(new StringReader(Json), "s.json");
        Assert.Equal(ScenarioReader.Read(new StringReader(Good), "s.yaml").Pools[0].HostNames, s.Pools[0].HostNames);
    }

    [Fact]
    public void A_wrong_type_names_the_field_path_line_and_column()
    {
        var e = Bad(Good.Replace("mtu: 9000", "mtu: jumbo"));
        Assert.Equal("pools[0].nics[0].mtu", e.Field);
        Assert.Equal(7, e.Line);
        Assert.StartsWith("s.yaml:7:", e.Message);
        Assert.Contains("'jumbo' is not a whole number", e.Message);
    }

    [Fact]
    public void Unknown_fields_unknown_drivers_and_dangling_references_are_errors()
    {
        Assert.Contains("unknown field 'mtus'", Bad(Good.Replace("mtu: 9000", "mtus: 9000")).Message);
        Assert.Contains("no driver profile for 'e1000e'", Bad(Good.Replace("driver: bnx2x", "driver: e1000e")).Message);
        Assert.Equal("pools[0].bonds[0].members[0]", Bad(Good.Replace("members: [eth4]", "members: [eth9]")).Field);
        Assert.Contains("no pool 'q'", Bad(Good + "\ninterventions:\n  - { at: 1h, action: enableGro, pool: q }\n").Message);
        Assert.Contains("is not one of enableGro, setSwiotlb, setMtu, rollingPlan", Bad(Good + "\ninterventions:\n  - { at: 1h, action: reboot, pool: p }\n").Message);
        Assert.Contains("needs 'swiotlbMiB'", Bad(Good + "\ninterventions:\n  - { at: 1h, action: setSwiotlb, pool: p }\n").Message);
        Assert.Contains("missing required field 'duration'", Bad(Good.Replace("duration: 1h\n", "")).Message);
        Assert.Contains("not a duration", Bad(Good.Replace("duration: 1h", "duration: soon")).Message);
    }
}
