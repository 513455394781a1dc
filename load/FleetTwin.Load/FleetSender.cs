using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Load;

/// <summary>
/// The sender skeleton the stream load verbs share (<c>syslog-tcp</c>, <c>syslog-tls</c>, <c>relp</c>): a simulated
/// fleet of dom0s spread over connections as relays fan in (host h on connection h % connections), the kern.log
/// records each connection carries, the connection itself (plain TCP or TLS), the pacing to the offered rate, and the
/// loss check through the gateway. What differs per protocol is only how a record is framed and what is read back.
/// </summary>
internal sealed class SimulatedFleet(int hosts, int connections, string prefix)
{
    public int Hosts => hosts;

    public int Connections => connections;

    public string HostName(int h) => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{h:00000}");

    /// <summary>The records of the hosts on <paramref name="connection"/>, round-robin, each host's printk uptime rising.</summary>
    public Dom0Records RecordsOf(int connection) => new(this, [.. Enumerable.Range(0, hosts).Where(h => h % connections == connection)], new Random(connection));

    /// <summary>Polls every host's processed-event count until it covers <paramref name="expected"/> (or 3 minutes pass).</summary>
    public async Task<(long Processed, TimeSpan After)> WaitAppliedAsync(IClusterClient client, long expected)
    {
        var settle = Stopwatch.StartNew();
        long processed = 0;
        while (settle.Elapsed < TimeSpan.FromMinutes(3))
        {
            var counts = await Task.WhenAll(Enumerable.Range(0, hosts).Select(h => client.GetGrain<IHostGrain>(HostName(h)).GetProcessedEvents()));
            processed = counts.Sum();
            if (processed >= expected)
                break;
            await Task.Delay(200, CancellationToken.None);
        }
        return (processed, settle.Elapsed);
    }
}

/// <summary>RFC 3164 kern.log lines of one connection's dom0s: 30% SWIOTLB exhaustions (the events the twin applies), 70% chatter it skips.</summary>
internal sealed class Dom0Records(SimulatedFleet fleet, int[] hosts, Random random)
{
    private readonly double[] _uptime = [.. hosts.Select(h => 1_000_000.0 + h)];
    private int _next;

    public string Next(out int host, out bool exhaustion)
    {
        var slot = _next++ % hosts.Length;
        host = hosts[slot];
        _uptime[slot] += 0.001 + random.NextDouble() * 0.01;
        exhaustion = random.Next(10) < 3;
        var message = exhaustion
            ? string.Create(CultureInfo.InvariantCulture, $"PCI-DMA: Out of SW-IOMMU space for {random.Next(14_000, 32_000)} bytes at device 0000:04:00.{random.Next(2)}")
            : string.Create(CultureInfo.InvariantCulture, $"nf_conntrack: table full, dropping packet. {random.Next(1000)}");
        return string.Create(CultureInfo.InvariantCulture, $"<11>Sep 17 05:05:06 {fleet.HostName(host)} kernel: [{_uptime[slot]:0.000000}] {message}");
    }
}

/// <summary>TLS for a load connection (RFC 5425 for syslog, omrelp <c>tls="on"</c> for RELP): the CA the silo's certificate must chain to, and an optional client certificate.</summary>
internal sealed record LoadTls(string CaPath, string? CertificatePath, string? KeyPath, string TargetHost)
{
    public static readonly Option<string?> CaOption = new("--ca") { Description = "speak TLS; the CA (PEM) the silo's certificate must chain to" };
    public static readonly Option<string?> CertificateOption = new("--cert") { Description = "client certificate (PEM) for a door that requires one (FleetTwin:Tls:ClientCaPath)" };
    public static readonly Option<string?> KeyOption = new("--key") { Description = "the client certificate's key (PEM)" };
    public static readonly Option<string> TargetHostOption = new("--tls-name") { DefaultValueFactory = _ => "localhost", Description = "the name the silo's certificate is checked against" };

    public static LoadTls? From(ParseResult parse) => parse.GetValue(CaOption) is { } ca
        ? new LoadTls(ca, parse.GetValue(CertificateOption), parse.GetValue(KeyOption), parse.GetValue(TargetHostOption)!)
        : null;
}

internal static class LoadConnection
{
    /// <summary>A TCP connection to the door, with a TLS session over it when <paramref name="tls"/> is given.</summary>
    public static async Task<Stream> OpenAsync(string server, int port, LoadTls? tls, bool noDelay)
    {
        var tcp = new TcpClient { NoDelay = noDelay };
        await tcp.ConnectAsync(server, port, CancellationToken.None);
        Stream stream = tcp.GetStream();
        if (tls is null)
            return new OwningStream(stream, tcp);
        using var ca = X509CertificateLoader.LoadCertificateFromFile(tls.CaPath);
        var client = tls.CertificatePath is null ? null : X509Certificate2.CreateFromPemFile(tls.CertificatePath, tls.KeyPath);
        var authority = X509CertificateLoader.LoadCertificate(ca.RawData);
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            if (certificate is null)
                return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        });
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = tls.TargetHost,
            ClientCertificates = client is null ? null : new X509CertificateCollection { client },
        });
        return new OwningStream(ssl, tcp);
    }

    /// <summary>
    /// Writes as many records as are owed at <paramref name="perSecond"/> by now, in writes of at most 2,000 and at most
    /// <paramref name="room"/> (RELP: the free window), until <paramref name="stop"/>. Returns the records sent.
    /// </summary>
    public static async Task<long> PaceAsync(Stopwatch clock, double perSecond, Func<long> room, Func<int, Task> writeAsync, CancellationToken stop)
    {
        long sent = 0;
        while (!stop.IsCancellationRequested)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * perSecond) - sent;
            var free = room();
            if (due <= 0 || free <= 0)
            {
                await Task.Delay(1, CancellationToken.None);
                continue;
            }
            var count = (int)Math.Min(Math.Min(due, free), 2000);
            await writeAsync(count);
            sent += count;
        }
        return sent;
    }

    /// <summary>The stream, closing the TCP client with it.</summary>
    private sealed class OwningStream(Stream inner, TcpClient tcp) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        /// <summary>
        /// The end of what this connection sends: TLS close_notify, then the TCP FIN (the door then completes the
        /// source); then reads until the door closes (RFC 5425 §4.4: it answers close_notify), because closing a socket
        /// with unread bytes in it (a TLS 1.3 session ticket) sends a reset, and a reset loses what the door had not
        /// read yet.
        /// </summary>
        public async Task ShutdownAsync()
        {
            if (inner is SslStream ssl)
                await ssl.ShutdownAsync();
            tcp.Client.Shutdown(SocketShutdown.Send);
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                while (await inner.ReadAsync(buffer, timeout.Token) > 0)
                {
                }
            }
            catch (Exception error) when (error is IOException or OperationCanceledException)
            {
                // The door reset or did not close within two minutes: nothing more to wait for.
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                tcp.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>Ends what <paramref name="stream"/> (from <see cref="OpenAsync"/>) sends, so the door sees the end of the source.</summary>
    public static Task ShutdownAsync(Stream stream) => stream is OwningStream owning ? owning.ShutdownAsync() : Task.CompletedTask;
}
