using FleetTwin.Domain.XenServer;
using FleetTwin.Ingest.Reading;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>What recognisers share within one reader: the outlet for events, the name cache and settings.</summary>
internal sealed class RecogniserServices(EventOutlet outlet, Utf8StringCache names, XenServerReleaseTable releases, double vmStopGraceSeconds)
{
    public EventOutlet Outlet { get; } = outlet;
    public Utf8StringCache Names { get; } = names;
    public XenServerReleaseTable Releases { get; } = releases;
    public double VmStopGraceSeconds { get; } = vmStopGraceSeconds;
}
