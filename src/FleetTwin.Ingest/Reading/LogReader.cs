namespace FleetTwin.Ingest.Reading;

/// <summary>An input could not be read; the message names it and says why.</summary>
public sealed class LogSourceException(string source, string message, Exception inner) : IOException(message, inner)
{
    /// <summary>The file name or <c>-</c>.</summary>
    public string SourceName { get; } = source;
}

/// <summary>Reads whole streams or files through a <see cref="LogParser"/>.</summary>
public static class LogReader
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>Reads <paramref name="stream"/> to its end; events go to <paramref name="sink"/> as they are recognised.</summary>
    public static IngestStatistics Read(Stream stream, ITwinEventSink sink, LogParserOptions options)
    {
        var parser = new LogParser(sink, options);
        var buffer = new byte[ChunkSize];
        int read;
        try
        {
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                parser.Write(buffer.AsSpan(0, read));
            }
        }
        catch (IOException error)
        {
            throw new LogSourceException(options.SourceName, $"{options.SourceName}: read failed after {parser.Statistics.Bytes} bytes: {error.Message}", error);
        }
        parser.Complete();
        return parser.Statistics;
    }

    /// <summary>As <see cref="Read"/>, without blocking a thread while waiting for input (sockets, pipes).</summary>
    public static async Task<IngestStatistics> ReadAsync(Stream stream, ITwinEventSink sink, LogParserOptions options, CancellationToken cancellationToken = default)
    {
        var parser = new LogParser(sink, options);
        var buffer = new byte[ChunkSize];
        int read;
        try
        {
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                parser.Write(buffer.AsSpan(0, read));
            }
        }
        catch (IOException error)
        {
            throw new LogSourceException(options.SourceName, $"{options.SourceName}: read failed after {parser.Statistics.Bytes} bytes: {error.Message}", error);
        }
        parser.Complete();
        return parser.Statistics;
    }

    /// <summary>
    /// Reads a file. Its modification time supplies the syslog year unless <see cref="LogParserOptions.Year"/> or
    /// <see cref="LogParserOptions.ReferenceTime"/> is set. Throws <see cref="LogSourceException"/> naming the file
    /// when it cannot be opened or read.
    /// </summary>
    public static IngestStatistics ReadFile(string path, ITwinEventSink sink, LogParserOptions options)
    {
        using var stream = OpenFile(path, options, out var effective);
        return Read(stream, sink, effective);
    }

    /// <summary>
    /// Opens a log file for reading (shared, so a file still being written can be read) and returns the options to
    /// parse it with: the path as source name and, unless a year or reference time was given, the file's modification
    /// time for syslog's missing year. Throws <see cref="LogSourceException"/> naming the file when it cannot be opened.
    /// </summary>
    public static FileStream OpenFile(string path, LogParserOptions options, out LogParserOptions effective, bool asynchronous = false)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, ChunkSize, asynchronous);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new LogSourceException(path, $"cannot read '{path}': {error.Message}", error);
        }
        effective = options with { SourceName = path };
        if (effective.Year is null && effective.ReferenceTime is null)
            effective = effective with { ReferenceTime = File.GetLastWriteTimeUtc(path) };
        return stream;
    }
}
