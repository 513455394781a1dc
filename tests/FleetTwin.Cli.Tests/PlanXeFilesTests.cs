using System.Text.Json;
using FleetTwin.Cli.Commands;
using FleetTwin.Cli.Tests.Support;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Cli.Tests;

/// <summary>
/// <c>fleettwin plan --pool P FILES</c> with xe output saved to files, one command per file and no shell prompts (issue
/// 18): files given together describe one pool when they are consistent, every host of its host-list is planned, and an
/// inconsistency is named with its file and line.
/// </summary>
public sealed class PlanXeFilesTests : IDisposable
{
    private const string Pool = "bn2-3c16";
    private readonly string _dir = Directory.CreateTempSubdirectory("fleettwin-xe-files-").FullName;

    private static (int Exit, string Stdout, string Stderr) Cli(params string[] args) => InProcessCli.Run([PlanCommand.Create], args);

    /// <summary>The KB pool transcript's xe commands, each saved to its own file as `xe … > file` would, without the prompt.</summary>
    private Dictionary<string, string> SplitTranscript()
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        string? current = null;
        var lines = new List<string>();
        foreach (var line in File.ReadAllLines(Golden.PathOf("kb-pool/kb-pool-transcript.txt")).Append("[root@end ~]# "))
        {
            if (line.StartsWith("[root@", StringComparison.Ordinal))
            {
                if (current is not null)
                    files[current] = Write(current, lines);
                lines.Clear();
                var command = line[(line.IndexOf("]# ", StringComparison.Ordinal) + 3)..];
                current = command.StartsWith("xe ", StringComparison.Ordinal) ? command.Split(' ')[1] + ".txt" : null;
                continue;
            }
            lines.Add(line);
        }
        return files;
    }

    private string Write(string name, IEnumerable<string> lines)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Xe_files_without_prompts_given_together_are_one_pool_and_every_host_of_its_host_list_is_planned()
    {
        var files = SplitTranscript();
        Assert.Equal(["bond-list.txt", "host-list.txt", "patch-list.txt", "pif-list.txt", "pool-list.txt", "vm-list.txt"], files.Keys.Order(StringComparer.Ordinal));

        var (_, stdout, stderr) = Cli(["plan", "--pool", Pool, "--format", "json", .. files.Values]);

        Assert.Empty(stderr);
        using var json = JsonDocument.Parse(stdout);
        var hosts = json.RootElement.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("host").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(["bn2-3c16-ix-4101", "bn2-3c16-ix-4102", "bn2-3c16-ix-4104"], hosts);
    }

    [Fact]
    public void Xe_files_that_do_not_describe_one_pool_are_refused_naming_each_inconsistency_with_file_and_line()
    {
        var files = SplitTranscript();
        // A VM resident on a host of another pool, a PIF of a host the host-list lacks, and a second pool's pool-list.
        File.AppendAllText(files["vm-list.txt"], """
            uuid ( RO)           : 0badc0de-0000-4000-8000-000000000001
                 name-label ( RW): stray-vm
                power-state ( RO): running
                resident-on ( RO): 77777777-0000-4000-8000-000000000007
              memory-actual ( RO): 4294967296

            """);
        File.AppendAllText(files["pif-list.txt"], """
            uuid ( RO)                  : 0badc0de-0000-4000-8000-000000000002
                        device ( RO): eth9
                           MAC ( RO): 00:10:18:00:00:09
                     host-uuid ( RO): 88888888-0000-4000-8000-000000000008
               host-name-label ( RO): bn2-3c16-ix-4199

            """);
        var otherPool = Write("other-pool-list.txt", [
            "uuid ( RO)                : 0badc0de-0000-4000-8000-000000000003",
            "          name-label ( RW): bn2-3c17",
            "              master ( RO): 35265d37-ae2d-42c4-b4d1-1b15bbec3564",
        ]);
        var vmLine = File.ReadAllLines(files["vm-list.txt"]).ToList().FindIndex(l => l.Contains("0badc0de-0000-4000-8000-000000000001", StringComparison.Ordinal)) + 1;
        var pifLine = File.ReadAllLines(files["pif-list.txt"]).ToList().FindIndex(l => l.Contains("0badc0de-0000-4000-8000-000000000002", StringComparison.Ordinal)) + 1;

        var (exit, stdout, stderr) = Cli(["plan", "--pool", Pool, .. files.Values, otherPool]);

        Assert.Equal(PlanCommand.ExitBadInput, exit);
        Assert.Empty(stdout);
        var errors = stderr.TrimEnd().Split('\n');
        Assert.Equal("fleettwin plan: the xe files do not describe one consistent pool (3 inconsistencies):", errors[0]);
        Assert.Contains(errors, e => e.StartsWith($"  {otherPool}:1: pool bn2-3c17 (0badc0de-0000-4000-8000-000000000003) is a second pool in the xe output read without a prompt or --host (first: pool bn2-3c16", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith($"  {files["pif-list.txt"]}:{pifLine}: PIF 0badc0de-0000-4000-8000-000000000002 (eth9) is on host 88888888-0000-4000-8000-000000000008 (bn2-3c16-ix-4199), which the host-list read does not have (hosts: bn2-3c16-ix-4101, bn2-3c16-ix-4102, bn2-3c16-ix-4104)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith($"  {files["vm-list.txt"]}:{vmLine}: VM stray-vm is resident on host 77777777-0000-4000-8000-000000000007", StringComparison.Ordinal));
        Assert.Equal(4, errors.Length);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
