using FleetTwin.Domain.Events;

namespace FleetTwin.Domain.Tests.Events;

public sealed class TwinEventKindsTests
{
    [Fact]
    public void Every_event_record_of_the_domain_is_in_the_one_kind_list_once_under_its_own_type_name()
    {
        var eventTypes = typeof(TwinEvent).Assembly.GetTypes().Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(TwinEvent))).ToList();

        Assert.Equal(eventTypes.OrderBy(t => t.FullName, StringComparer.Ordinal), TwinEventKinds.All.Select(k => k.Type).OrderBy(t => t.FullName, StringComparer.Ordinal));
        Assert.Equal(TwinEventKinds.All.Count, TwinEventKinds.All.Select(k => k.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.All(TwinEventKinds.All, kind => Assert.Equal(kind.Name, ((TwinEvent)Activator.CreateInstance(kind.Type)!).Type));
    }
}
