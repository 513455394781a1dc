using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace FleetTwin.Security;

/// <summary>
/// The server certificate from a PEM certificate and key file, re-read when either file changes, so a renewed
/// certificate (cert-manager rewrites the mounted Secret: kubelet swaps the <c>..data</c> symlink) is served to new
/// connections without a restart; open connections keep the one they were made with.
/// </summary>
/// <remarks>
/// Kestrel asks for the certificate on every TLS handshake (<c>ServerCertificateSelector</c>). The files' time stamps
/// and sizes are compared at most once per <see cref="CheckInterval"/>, so a handshake costs a clock read, not a
/// stat. A file caught half-written fails to parse: the old certificate stays, a warning is logged and the next check
/// tries again.
/// </remarks>
public sealed class ReloadingCertificate : IDisposable
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _certificatePath;
    private readonly string _keyPath;
    private readonly ILogger? _logger;
    private readonly Lock _gate = new();
    private X509Certificate2 _current;
    private (DateTime, long, DateTime, long) _stamp;
    private long _nextCheck;

    public ReloadingCertificate(string certificatePath, string keyPath, ILogger? logger = null)
    {
        _certificatePath = certificatePath;
        _keyPath = keyPath;
        _logger = logger;
        _stamp = Stamp();
        _current = Load(certificatePath, keyPath);
        _nextCheck = Environment.TickCount64 + (long)CheckInterval.TotalMilliseconds;
    }

    /// <summary>The certificate to serve now (reloaded first when the files changed).</summary>
    public X509Certificate2 Current
    {
        get
        {
            if (Environment.TickCount64 >= Volatile.Read(ref _nextCheck))
                ReloadIfChanged();
            return Volatile.Read(ref _current);
        }
    }

    /// <summary>Loads a PEM certificate with its key; the message names the file when either is unusable.</summary>
    public static X509Certificate2 Load(string certificatePath, string keyPath)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"{FleetTwinEndpointOptions.Section}:Tls: cannot load certificate '{certificatePath}' with key '{keyPath}': {error.Message}", error);
        }
    }

    private void ReloadIfChanged()
    {
        lock (_gate)
        {
            if (Environment.TickCount64 < _nextCheck)
                return;
            Volatile.Write(ref _nextCheck, Environment.TickCount64 + (long)CheckInterval.TotalMilliseconds);
            var stamp = Stamp();
            if (stamp == _stamp)
                return;
            try
            {
                var fresh = Load(_certificatePath, _keyPath);
                _stamp = stamp;
                // The old certificate is not disposed: connections made with it may still use its key.
                Volatile.Write(ref _current, fresh);
                _logger?.LogInformation("TLS certificate reloaded from {Path}: {Subject}, valid until {NotAfter:u}", _certificatePath, fresh.Subject, fresh.NotAfter.ToUniversalTime());
            }
            catch (InvalidOperationException error)
            {
                _logger?.LogWarning("TLS certificate not reloaded, still serving the previous one: {Message}", error.Message);
            }
        }
    }

    private (DateTime, long, DateTime, long) Stamp()
    {
        static (DateTime, long) Of(string path)
        {
            var file = new FileInfo(path);
            return file.Exists ? (file.LastWriteTimeUtc, file.Length) : (DateTime.MinValue, -1);
        }
        var (certTime, certLength) = Of(_certificatePath);
        var (keyTime, keyLength) = Of(_keyPath);
        return (certTime, certLength, keyTime, keyLength);
    }

    public void Dispose() => _current.Dispose();
}
