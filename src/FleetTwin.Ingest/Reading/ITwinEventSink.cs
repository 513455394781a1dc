using FleetTwin.Domain.Events;

namespace FleetTwin.Ingest.Reading;

/// <summary>Receives events in the order the reader recognised them (per host, in log order).</summary>
public interface ITwinEventSink
{
    void Accept(TwinEvent twinEvent);
}

/// <summary>A sink that keeps every event in a list: for tests, the offline CLI and small inputs.</summary>
public sealed class TwinEventBuffer : ITwinEventSink
{
    private readonly List<TwinEvent> _events = [];

    public IReadOnlyList<TwinEvent> Events => _events;

    public void Accept(TwinEvent twinEvent) => _events.Add(twinEvent);

    /// <summary>The events of one kind, in order.</summary>
    public List<T> OfType<T>() where T : TwinEvent
    {
        var result = new List<T>();
        foreach (var e in _events)
        {
            if (e is T typed)
            {
                result.Add(typed);
            }
        }
        return result;
    }
}
