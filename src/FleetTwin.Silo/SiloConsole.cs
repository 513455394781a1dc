using System.Collections.Frozen;
using System.Security.Cryptography;
using FleetTwin.Api.Web;
using FleetTwin.Security;
using Microsoft.Net.Http.Headers;

namespace FleetTwin.Silo;

/// <summary>
/// The web console: its pages (one HTML shell, the page drawn by console/app.js from the URL) and assets, embedded in
/// the silo (wwwroot/, resource names <c>console/...</c>), served as endpoints so the doors' authorization applies to
/// them as to <c>/api/</c> (the <c>read</c> role where authentication is on; static-file middleware would run before
/// authorization). Assets carry an ETag: a reload revalidates and gets 304.
/// </summary>
internal static class SiloConsole
{
    /// <summary>The console's page paths (each answers the same HTML shell; the script draws the page the path names).</summary>
    public static readonly string[] Pages = ["/", "/hosts/{name}", "/pools/{pool}", "/alerts"];

    private sealed record Asset(byte[] Content, string ContentType, string ETag);

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    public static WebApplication MapConsole(this WebApplication app)
    {
        app.MapConsoleApi();
        foreach (var page in Pages)
            app.MapGet(page, (HttpContext http) => Serve(http, "index.html")).RequireAuthorization(DoorRoles.Read).WithMetadata(new DoorName(DoorName.Http));
        app.MapGet("/console/{**file}", (HttpContext http, string file) => Serve(http, file)).RequireAuthorization(DoorRoles.Read).WithMetadata(new DoorName(DoorName.Http));
        return app;
    }

    private static IResult Serve(HttpContext http, string file)
    {
        if (!Assets.TryGetValue(file, out var asset))
            return Results.NotFound();
        http.Response.Headers.CacheControl = "no-cache"; // revalidate: a new silo build serves new files at once
        http.Response.Headers.ETag = asset.ETag;
        if (http.Request.Headers.IfNoneMatch == asset.ETag)
            return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        const string prefix = "console/";
        var assembly = typeof(SiloConsole).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var file = name[prefix.Length..].Replace('\\', '/');
            assets[file] = new Asset(content, ContentTypeOf(file), new EntityTagHeaderValue($"\"{Convert.ToHexString(SHA256.HashData(content))[..16]}\"").ToString());
        }
        if (!assets.ContainsKey("index.html"))
            throw new InvalidOperationException("the console's index.html is missing from the silo assembly (wwwroot/ not embedded)");
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string file) => Path.GetExtension(file) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "text/plain; charset=utf-8",
    };
}
