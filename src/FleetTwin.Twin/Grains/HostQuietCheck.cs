namespace FleetTwin.Twin.Grains;

/// <summary>
/// How the host grains measure quiet: every <paramref name="Interval"/> a host at warning or critical is re-assessed at
/// its last record's uptime plus the time <paramref name="Clock"/> says has passed since (tests give a clock they move).
/// </summary>
public sealed record HostQuietCheck(TimeSpan Interval, TimeProvider Clock);
