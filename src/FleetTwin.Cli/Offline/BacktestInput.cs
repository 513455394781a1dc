using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;

namespace FleetTwin.Cli.Offline;

/// <summary>
/// The events of a backtest's inputs, each file read on its own so that a file whose records name no host can be
/// given one: the one host the files beside it name (the KB incident's dom0.log beside its kern.log), else its
/// directory's name. Each such choice is a note for the summary.
/// </summary>
internal sealed class BacktestInput
{
    public List<TwinEvent> Events { get; } = [];
    public List<string> Notes { get; } = [];
    private readonly Dictionary<string, string> _classes = new(StringComparer.Ordinal);

    /// <summary>The class of a host: the directory above the directory of the first file that named it.</summary>
    public string? ClassOf(string host) => _classes.GetValueOrDefault(host);

    /// <summary>The files named, and every file under each directory named (recursively, in ordinal path order).</summary>
    public static List<string> Expand(IReadOnlyList<string> paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
                files.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
            else
                files.Add(path);
        }
        return files;
    }

    public static BacktestInput Read(IReadOnlyList<string> files, string? host, int? year)
    {
        var input = new BacktestInput();
        var perFile = new List<(string File, string Directory, IReadOnlyList<TwinEvent> Events)>(files.Count);
        foreach (var file in files)
            perFile.Add((file, Path.GetDirectoryName(Path.GetFullPath(file)) ?? "", ReadOne(file, host, year)));

        // A file with records (uptime) but no host: only possible without --host.
        for (var i = 0; i < perFile.Count; i++)
        {
            var (file, directory, events) = perFile[i];
            if (host is not null || !events.Any(e => e.Host is null && e.Uptime is not null))
                continue;
            var beside = perFile.Where(p => p.File != file && p.Directory == directory).ToList();
            var named = beside.SelectMany(p => p.Events.Select(e => (e.Host, p.File))).Where(x => x.Host is not null)
                .GroupBy(x => x.Host!, StringComparer.Ordinal).ToList();
            var directoryName = Path.GetFileName(directory);
            string? inferred;
            string how;
            if (named.Count == 1)
            {
                inferred = named[0].Key;
                how = $"from the {Path.GetFileName(named[0].First().File)} beside it";
            }
            else if (named.Count == 0 && directoryName.Length > 0)
            {
                inferred = directoryName;
                how = "from its directory";
            }
            else if (named.Any(g => g.Key == directoryName))
            {
                inferred = directoryName;
                how = $"from its directory (the files beside it name {named.Count} hosts)";
            }
            else
            {
                input.Notes.Add($"{file}: no host: the files beside it name {named.Count} hosts ({string.Join(", ", named.Select(g => g.Key))}); pass --host");
                continue;
            }
            input.Notes.Add($"{file}: host {inferred} {how}");
            perFile[i] = (file, directory, ReadOne(file, inferred, year));
        }

        foreach (var (_, directory, events) in perFile)
        {
            input.Events.AddRange(events);
            // CLASS/HOST/file: the class is the name of the directory above the file's directory.
            var cls = directory.Length == 0 ? null : Path.GetFileName(Path.GetDirectoryName(directory));
            if (string.IsNullOrEmpty(cls))
                continue;
            foreach (var e in events)
            {
                if (e.Host is not null)
                    input._classes.TryAdd(e.Host, cls);
            }
        }
        return input;
    }

    private static IReadOnlyList<TwinEvent> ReadOne(string file, string? host, int? year)
    {
        var buffer = new TwinEventBuffer();
        LogReader.ReadFile(file, buffer, new LogParserOptions { SourceName = file, DefaultHost = host, Year = year });
        return buffer.Events;
    }
}
