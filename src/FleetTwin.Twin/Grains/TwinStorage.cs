namespace FleetTwin.Twin.Grains;

/// <summary>Storage provider names.</summary>
public static class TwinStorage
{
    /// <summary>Grain state of hosts, NICs, bonds, pools and bounce pools.</summary>
    public const string Name = "twin";
}
