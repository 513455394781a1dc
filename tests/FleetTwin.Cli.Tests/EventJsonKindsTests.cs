using FleetTwin.Cli.Output;
using FleetTwin.Domain.Events;

namespace FleetTwin.Cli.Tests;

public sealed class EventJsonKindsTests
{
    [Fact]
    public void The_CLI_JSON_output_has_metadata_for_every_event_kind_of_the_domain_list()
    {
        var missing = TwinEventKinds.All.Where(kind => EventJsonContext.Default.GetTypeInfo(kind.Type) is null).Select(kind => kind.Name).ToList();

        Assert.Empty(missing);
    }
}
