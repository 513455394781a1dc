using System.CommandLine;
using FleetTwin.Tests.Shared;

namespace FleetTwin.Load;

/// <summary>
/// <c>credentials</c>: writes throwaway credentials for a secured silo on this machine — the tests' own
/// (<see cref="TestCredentials"/>: a CA, a server certificate for 127.0.0.1/localhost, a client certificate with roles
/// read and ingest, an HS256 key) plus a token with roles read and ingest and the silo settings that use them, so the
/// TLS + JWT runs of docs/perf.md can be repeated without openssl or a token issuer. For measurements only: the keys
/// are made fresh every time and the certificates expire in a day.
/// </summary>
internal static class LoadCredentials
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Required = true, Description = "directory to write the PEM files, jwt.key, token.txt and silo.env to" };
        var command = new Command("credentials", "Throwaway CA, server and client certificates, JWT key and token for a secured silo on 127.0.0.1") { output };
        command.SetAction(parse =>
        {
            var dir = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(dir);
            using var credentials = new TestCredentials();
            string Copy(string path)
            {
                var to = Path.Combine(dir, Path.GetFileName(path));
                File.Copy(path, to, overwrite: true);
                return to;
            }
            var ca = Copy(credentials.CaPath);
            var certificate = Copy(credentials.ServerCertificatePath);
            var key = Copy(credentials.ServerKeyPath);
            Copy(credentials.ClientCertificatePath);
            Copy(credentials.ClientKeyPath);
            var jwtKey = Copy(credentials.JwtKeyPath);
            File.WriteAllText(Path.Combine(dir, "token.txt"), credentials.Token(TimeSpan.FromHours(2), "read", "ingest") + "\n");
            File.WriteAllLines(Path.Combine(dir, "silo.env"),
            [
                $"FleetTwin__Tls__CertificatePath={certificate}",
                $"FleetTwin__Tls__KeyPath={key}",
                $"FleetTwin__Tls__ClientCaPath={ca}",
                $"FleetTwin__Jwt__SigningKeyPath={jwtKey}",
                $"FleetTwin__Jwt__Issuer={TestCredentials.Issuer}",
                $"FleetTwin__Jwt__Audience={TestCredentials.Audience}",
            ]);
            Console.WriteLine($"wrote {dir}: ca.pem, server.pem/.key, client-read-ingest.pem/.key, jwt.key, token.txt (roles read, ingest; valid 2 h), silo.env");
            return 0;
        });
        return command;
    }
}
