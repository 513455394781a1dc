using System.CommandLine;
using System.Globalization;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Prediction;
using FleetTwin.Ingest.Reading;

namespace FleetTwin.Cli;

/// <summary>
/// <c>fleettwin backtest FILE|DIR... [--host NAME] [--year YYYY] [--classes] [--json]</c>: replays logs through the
/// panic predictor and scores it against the panics the logs show. A directory is read with every file under it
/// (in path order). A console log whose records name no host (a crash's dom0.log) takes the host of the syslog file
/// beside it, else its directory's name (<c>HOST/dom0.log</c>); the summary says which. With <c>--classes</c> the
/// score is also given per class, a host's class being the directory above its host directory (CLASS/HOST/files).
/// Exit codes: 0 scored, 2 no input or an input could not be read.
/// </summary>
public static class BacktestCommand
{
    public const int ExitOk = 0;
    public const int ExitBadInput = 2;

    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("FILE") { Description = "Kernel logs, console logs and xe/ethtool output to replay, or directories of them.", Arity = ArgumentArity.ZeroOrMore };
        var host = InputOptions.Host();
        var year = InputOptions.Year();
        var json = new Option<bool>("--json") { Description = "The score as JSON: panics with lead times, false_alarms, missed_panics, host_days (and classes with --classes)." };
        var classes = new Option<bool>("--classes") { Description = "Score per class too: a host's class is the name of the directory above its host directory (CLASS/HOST/kern.log)." };
        var command = new Command("backtest", "Replay logs through the panic predictor and score it against the panics that really happened.");
        command.Arguments.Add(files);
        command.Options.Add(host);
        command.Options.Add(year);
        command.Options.Add(classes);
        command.Options.Add(json);
        command.SetAction(r => Run(r.GetValue(files) ?? [], r.GetValue(host), r.GetValue(year), r.GetValue(json), stdout, stderr, r.GetValue(classes)));
        return command;
    }

    public static int Run(IReadOnlyList<string> files, string? host, int? year, bool json, TextWriter stdout, TextWriter stderr, bool classes = false)
    {
        if (files.Count == 0)
        {
            stderr.WriteLine("fleettwin backtest: " + OfflineFleet.NoFilesMessage);
            return ExitBadInput;
        }
        if (year is int y && (y < 1970 || y > 9999))
        {
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fleettwin backtest: --year {y} is not a plausible year"));
            return ExitBadInput;
        }
        BacktestInput input;
        try
        {
            input = BacktestInput.Read(BacktestInput.Expand(files), host, year);
        }
        catch (LogSourceException error)
        {
            stderr.WriteLine($"fleettwin backtest: {error.Message}");
            return ExitBadInput;
        }
        var fleet = OfflineFleet.FromEvents(input.Events);
        var report = Backtest.Run(fleet.Events, fleet.ConfigurationOf);
        var byClass = classes ? BacktestClasses.Score(report, input.ClassOf) : null;
        if (json)
        {
            foreach (var note in input.Notes)
                stderr.WriteLine(note);
            stdout.Write(report.ToJson(byClass) + Environment.NewLine);
        }
        else
        {
            foreach (var note in input.Notes)
                stdout.WriteLine(note);
            stdout.Write(report.ToText());
            if (byClass is not null)
                stdout.Write(byClass.ToText());
        }
        stdout.Flush();
        stderr.Flush();
        return ExitOk;
    }
}

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
