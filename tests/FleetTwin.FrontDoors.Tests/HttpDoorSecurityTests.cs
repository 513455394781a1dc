using System.Text.Json;
using FleetTwin.Security;
using FleetTwin.Tests.Shared;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// curl posting NDJSON to the HTTP ingest door over TLS (a test CA) with and without a bearer token: only a token with
/// the ingest role gets in; every refusal is an HTTP status curl sees and a count by door and reason.
/// </summary>
public sealed class HttpDoorSecurityTests : IAsyncLifetime
{
    private readonly TestCredentials _credentials = new();
    private LiveSilo _silo = null!;
    private string _ndjson = null!;

    public async Task InitializeAsync()
    {
        _silo = await LiveSilo.StartAsync(_credentials.SiloSettings());
        _ndjson = Path.Combine(_credentials.Directory, "kb.ndjson");
        File.WriteAllLines(_ndjson, Golden.KernLogMessages().Select(m => JsonSerializer.Serialize(new Dictionary<string, string> { ["message"] = m, ["host"] = "tls-host-1" })));
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _credentials.Dispose();
    }

    /// <summary>curl's HTTP status for the NDJSON post, with these extra arguments (credentials).</summary>
    private async Task<string> Post(params string[] credentials)
    {
        var curl = Tools.Require("curl", "curl");
        string[] arguments = ["-sS", "--cacert", _credentials.CaPath, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/x-ndjson", "--data-binary", "@" + _ndjson, .. credentials, $"{_silo.Http}/ingest/ndjson"];
        return (await Tools.RunAsync(curl, arguments)).Trim();
    }

    private string[] Bearer(TimeSpan expiresIn, params string[] roles) => ["-H", $"Authorization: Bearer {_credentials.Token(expiresIn, roles)}"];

    [SkippableFact]
    public async Task The_door_speaks_TLS_with_the_configured_certificate()
    {
        Assert.StartsWith("https://127.0.0.1:", _silo.Http, StringComparison.Ordinal);
        Assert.Equal("200", await Post(Bearer(TimeSpan.FromMinutes(5), DoorRoles.Ingest)));
    }

    [SkippableFact]
    public async Task An_ingest_token_is_accepted_and_its_records_reach_the_twin()
    {
        Assert.Equal("200", await Post(Bearer(TimeSpan.FromMinutes(5), DoorRoles.Ingest)));
        var host = await _silo.HostWhen("tls-host-1", h => h.ExhaustionEvents >= 17);
        Assert.Equal(17, host.ExhaustionEvents);
    }

    [SkippableFact]
    public async Task No_token_is_401_and_counted_as_no_credentials()
    {
        Assert.Equal("401", await Post());
        Assert.Equal(1, _silo.Refusals.CountOf(Door.HttpNdjson, RefusalReason.NoCredentials));
        Assert.Equal(0, _silo.Metrics.AcceptedCount(Door.HttpNdjson));
    }

    [SkippableFact]
    public async Task A_read_only_token_is_403_and_counted_as_wrong_role()
    {
        Assert.Equal("403", await Post(Bearer(TimeSpan.FromMinutes(5), DoorRoles.Read)));
        Assert.Equal(1, _silo.Refusals.CountOf(Door.HttpNdjson, RefusalReason.WrongRole));
    }

    [SkippableFact]
    public async Task An_expired_ingest_token_is_401_and_counted_as_expired()
    {
        Assert.Equal("401", await Post(Bearer(TimeSpan.FromHours(-1), DoorRoles.Ingest)));
        Assert.Equal(1, _silo.Refusals.CountOf(Door.HttpNdjson, RefusalReason.ExpiredToken));
    }

    [SkippableFact]
    public async Task A_client_certificate_with_OU_ingest_from_the_configured_CA_is_accepted()
    {
        Assert.Equal("200", await Post("--cert", _credentials.ClientCertificatePath, "--key", _credentials.ClientKeyPath));
    }

    [SkippableFact]
    public async Task A_client_certificate_from_another_CA_is_401_and_counted_as_untrusted()
    {
        Assert.Equal("401", await Post("--cert", _credentials.StrangerCertificatePath, "--key", _credentials.StrangerKeyPath));
        Assert.Equal(1, _silo.Refusals.CountOf(Door.HttpNdjson, RefusalReason.UntrustedCertificate));
    }
}
