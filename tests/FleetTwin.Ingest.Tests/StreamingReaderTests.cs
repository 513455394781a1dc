using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Ingest.Tests;

/// <summary>The streaming API the live twin will use.</summary>
public class StreamingReaderTests
{
    [Fact]
    public async Task ReadAsync_over_a_stream_gives_the_same_events_as_reading_the_file()
    {
        var buffer = new TwinEventBuffer();
        await using var stream = new MemoryStream(Golden.Bytes("kb-incident/dom0.log"));

        var stats = await LogReader.ReadAsync(stream, buffer, new LogParserOptions { DefaultHost = "h", SourceName = "dom0.log" });

        var fromFile = Golden.File_("kb-incident/dom0.log", host: "h");
        Assert.Equal(fromFile.Events.Select(Golden.Content), buffer.Events.Select(Golden.Content));
        Assert.Equal(84, stats.LinesRead);
    }

    [Fact]
    public void Writing_after_complete_is_an_error_naming_the_source()
    {
        var parser = new LogParser(new TwinEventBuffer(), new LogParserOptions { SourceName = "x.log" });
        parser.Complete();

        var error = Assert.Throws<InvalidOperationException>(() => parser.Write("a\n"u8));
        Assert.Contains("x.log", error.Message);
    }
}
