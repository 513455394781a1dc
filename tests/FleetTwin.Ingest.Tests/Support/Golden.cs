using System.Text;
using System.Text.Json;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;

namespace FleetTwin.Ingest.Tests.Support;

/// <summary>Reads the golden inputs that are copied next to the test assembly.</summary>
internal static class Golden
{
    public static string PathOf(string relative) => Path.Combine(AppContext.BaseDirectory, "Golden", relative);

    public static byte[] Bytes(string relative) => File.ReadAllBytes(PathOf(relative));

    public static string[] Lines(string relative) => File.ReadAllLines(PathOf(relative));

    /// <summary>Parses a golden file as the CLI does (a year given so times do not depend on the checkout's mtime).</summary>
    public static Parsed File_(string relative, string? host = null, int? year = 2014)
    {
        var buffer = new TwinEventBuffer();
        var stats = LogReader.ReadFile(PathOf(relative), buffer, new LogParserOptions { DefaultHost = host, Year = year });
        return new Parsed(buffer, stats);
    }

    public static Parsed Text(string text, LogParserOptions? options = null) => Bytes_(Encoding.UTF8.GetBytes(text), options);

    /// <summary>Feeds <paramref name="bytes"/> in chunks of <paramref name="chunk"/> bytes (all at once when 0).</summary>
    public static Parsed Bytes_(byte[] bytes, LogParserOptions? options = null, int chunk = 0)
    {
        var buffer = new TwinEventBuffer();
        var parser = new LogParser(buffer, options ?? new LogParserOptions { SourceName = "test", Year = 2014 });
        if (chunk <= 0)
        {
            parser.Write(bytes);
        }
        else
        {
            for (int i = 0; i < bytes.Length; i += chunk)
            {
                parser.Write(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
            }
        }
        parser.Complete();
        return new Parsed(buffer, parser.Statistics);
    }

    /// <summary>An event's content without where it was read (file, line), for comparing two shapes of one log.</summary>
    public static string Content(TwinEvent e)
    {
        var json = JsonSerializer.SerializeToNode(e, e.GetType())!.AsObject();
        json.Remove("SourceFile");
        json.Remove("SourceLine");
        return json.ToJsonString();
    }
}

internal sealed record Parsed(TwinEventBuffer Buffer, IngestStatistics Statistics)
{
    public IReadOnlyList<TwinEvent> Events => Buffer.Events;

    public List<T> All<T>() where T : TwinEvent => Buffer.OfType<T>();

    public T Single<T>() where T : TwinEvent => Assert.Single(Buffer.OfType<T>());
}
