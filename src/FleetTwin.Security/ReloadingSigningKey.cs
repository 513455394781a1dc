using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace FleetTwin.Security;

/// <summary>
/// The key tokens are checked with (<c>FleetTwin:Jwt:SigningKeyPath</c> or <c>PublicKeyPath</c>), re-read when the file
/// changes, so a rotated Secret takes effect without a restart. During a rotation the key it replaced is still
/// accepted for <see cref="JwtOptions.KeyOverlapSeconds"/>: tokens issued just before the issuer switched keep working
/// until the overlap ends, and an issuer that switches a little after the silo saw the new file is not refused.
/// </summary>
/// <remarks>
/// The JWT handler asks for the keys on every request (<c>IssuerSigningKeyResolver</c>). The file is read at most once
/// per <see cref="CheckInterval"/> (a request costs a clock read, not a file read) and its bytes compared with the
/// current key's: only a different key is a rotation (a touched file is not), and only once two checks in a row read
/// the same new bytes (so within about two intervals of the change; a file caught half-written is not a key). A file
/// that is missing or unusable (a kubelet symlink swap in progress, a key too short) leaves the current keys as they
/// are; a warning is logged once (per unreadable spell, per bad content) and the next check tries again. Only one
/// previous key is kept: a second rotation within the overlap ends the first one's.
/// </remarks>
public sealed class ReloadingSigningKey
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _path;
    private readonly string _setting;
    private readonly bool _symmetric;
    private readonly TimeSpan _overlap;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private byte[] _currentBytes;
    private byte[]? _rejectedBytes;
    private byte[]? _pendingBytes;
    private bool _unreadable;
    private SecurityKey _current;
    private SecurityKey? _previous;
    private long _previousUntil;
    private long _nextCheck;
    private SecurityKey[] _keys;

    /// <summary>Reads the key now; a missing or unusable file is an error naming the setting.</summary>
    public ReloadingSigningKey(JwtOptions jwt, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        _symmetric = !string.IsNullOrWhiteSpace(jwt.SigningKeyPath);
        _path = _symmetric ? jwt.SigningKeyPath! : jwt.PublicKeyPath ?? throw new ArgumentException("no JWT key configured", nameof(jwt));
        _setting = $"{FleetTwinEndpointOptions.Section}:Jwt:{(_symmetric ? nameof(JwtOptions.SigningKeyPath) : nameof(JwtOptions.PublicKeyPath))}";
        _overlap = TimeSpan.FromSeconds(jwt.KeyOverlapSeconds);
        _clock = clock ?? TimeProvider.System;
        _currentBytes = Read();
        _current = Parse(_currentBytes);
        _keys = [_current];
        _nextCheck = Now + Ticks(CheckInterval);
    }

    /// <summary>Logs reloads and unusable files; attached once the application's logging exists.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>The keys a token may be signed with now: the current one, and the one it replaced during the overlap.</summary>
    public IReadOnlyList<SecurityKey> Keys
    {
        get
        {
            if (Now >= Volatile.Read(ref _nextCheck))
                Refresh();
            return Volatile.Read(ref _keys);
        }
    }

    private long Now => _clock.GetTimestamp();

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _clock.TimestampFrequency);

    private void Refresh()
    {
        lock (_gate)
        {
            var now = Now;
            if (now < _nextCheck)
                return;
            Volatile.Write(ref _nextCheck, now + Ticks(CheckInterval));
            if (_previous is not null && now >= _previousUntil)
            {
                _previous = null;
                Volatile.Write(ref _keys, [_current]);
                Logger?.LogInformation("JWT key overlap ended: tokens signed with the previous key from {Path} are refused now", _path);
            }
            byte[] bytes;
            try
            {
                bytes = Read();
            }
            catch (InvalidOperationException error)
            {
                if (!_unreadable)
                    Logger?.LogWarning("JWT key not reloaded, still checking with the current one: {Message}", error.Message);
                _unreadable = true;
                return;
            }
            _unreadable = false;
            if (bytes.AsSpan().SequenceEqual(_currentBytes) || (_rejectedBytes is not null && bytes.AsSpan().SequenceEqual(_rejectedBytes)))
            {
                _pendingBytes = null;
                return;
            }
            // A new key counts once two checks read the same bytes: a file rewritten in place and caught half-written
            // is not taken for a key (an HMAC key of any 32 bytes would parse).
            if (_pendingBytes is null || !bytes.AsSpan().SequenceEqual(_pendingBytes))
            {
                _pendingBytes = bytes;
                return;
            }
            _pendingBytes = null;
            SecurityKey fresh;
            try
            {
                fresh = Parse(bytes);
            }
            catch (InvalidOperationException error)
            {
                _rejectedBytes = bytes;
                Logger?.LogWarning("JWT key not reloaded, still checking with the current one: {Message}", error.Message);
                return;
            }
            _rejectedBytes = null;
            _previous = _overlap > TimeSpan.Zero ? _current : null;
            _previousUntil = now + Ticks(_overlap);
            _current = fresh;
            _currentBytes = bytes;
            Volatile.Write(ref _keys, _previous is null ? [_current] : [_current, _previous]);
            Logger?.LogInformation("JWT key reloaded from {Path}; the previous key is accepted for {Overlap} s more", _path, _overlap.TotalSeconds);
        }
    }

    private byte[] Read()
    {
        try
        {
            return File.ReadAllBytes(_path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{_setting}: cannot read '{_path}': {error.Message}", error);
        }
    }

    private SecurityKey Parse(byte[] bytes)
    {
        if (_symmetric)
        {
            var length = bytes.Length;
            while (length > 0 && bytes[length - 1] is (byte)'\n' or (byte)'\r' or (byte)' ' or (byte)'\t')
                length--;
            // HS256 needs a key at least as long as its 256-bit output (RFC 7518 §3.2).
            if (length < 32)
                throw new InvalidOperationException($"{_setting}: the key in '{_path}' is {length} bytes; HS256 needs at least 32 (e.g. openssl rand -base64 48)");
            return new SymmetricSecurityKey(bytes[..length]);
        }
        var pem = Encoding.ASCII.GetString(bytes);
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (ArgumentException)
        {
        }
        try
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportFromPem(pem);
            return new ECDsaSecurityKey(ecdsa);
        }
        catch (ArgumentException error)
        {
            throw new InvalidOperationException($"{_setting}: '{_path}' holds no RSA or ECDSA public key in PEM", error);
        }
    }
}
