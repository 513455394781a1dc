namespace FleetTwin.Domain.Fleet;

/// <summary>
/// Risk levels, lowest first. What each asks of an operator: <see cref="Critical"/> page now; <see cref="Warning"/>
/// a ticket, plan the GRO change; <see cref="Latent"/> configured like the incident; <see cref="Ok"/> nothing;
/// <see cref="Unknown"/> find out. Every view gets a host's level from <see cref="Prediction.PanicPredictor.Assess"/>.
/// </summary>
public enum RiskLevel
{
    Unknown = 0,
    Ok = 1,
    Latent = 2,
    Warning = 3,
    Critical = 4,
}
