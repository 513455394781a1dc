using FleetTwin.Domain.Events;

namespace FleetTwin.Ingest.Reading;

/// <summary>Where recognisers hand their events: counts them, then passes them to the sink.</summary>
internal sealed class EventOutlet(ITwinEventSink sink, IngestStatistics statistics)
{
    public IngestStatistics Statistics { get; } = statistics;

    public void Emit(TwinEvent twinEvent)
    {
        Statistics.CountEvent(twinEvent.Type);
        sink.Accept(twinEvent);
    }
}
