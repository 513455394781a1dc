using Spectre.Console;

namespace FleetTwin.Cli.Output;

/// <summary>Where a long-running verb says how far it is: a fraction done and what it is doing.</summary>
internal sealed class ProgressLine
{
    private readonly ProgressTask? _task;

    internal ProgressLine(ProgressTask? task) => _task = task;

    /// <summary>True when a bar is drawn (a terminal); false when the report goes nowhere (redirected, NO_COLOR, --quiet).</summary>
    public bool Drawn => _task is not null;

    /// <summary><paramref name="fraction"/> of the work done (0..1), and what is being done when it changed.</summary>
    public void Report(double fraction, string? description = null)
    {
        if (_task is null)
            return;
        _task.Value = Math.Clamp(fraction, 0, 1) * 100;
        if (description is not null)
            _task.Description = Markup.Escape(description);
    }
}

/// <summary>
/// A live progress bar on stderr (Spectre.Console's <c>Progress</c>: description, bar, percentage, elapsed time),
/// drawn only when stderr is a terminal (<see cref="Terminal"/>). Redirected, with NO_COLOR or with --quiet the work
/// runs with a <see cref="ProgressLine"/> that draws nothing: a log file gets no carriage-return lines.
/// </summary>
internal static class LiveProgress
{
    public static T Run<T>(Terminal stderr, bool quiet, string description, Func<ProgressLine, T> work)
    {
        if (quiet || !stderr.IsTerminal)
            return work(new ProgressLine(null));
        return Display(stderr).Start(context => work(new ProgressLine(context.AddTask(Markup.Escape(description), maxValue: 100))));
    }

    public static Task<T> RunAsync<T>(Terminal stderr, bool quiet, string description, Func<ProgressLine, Task<T>> work)
    {
        if (quiet || !stderr.IsTerminal)
            return work(new ProgressLine(null));
        return Display(stderr).StartAsync(context => work(new ProgressLine(context.AddTask(Markup.Escape(description), maxValue: 100))));
    }

    private static Progress Display(Terminal stderr) =>
        stderr.ConsoleInto(stderr.Writer).Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn());
}

/// <summary>
/// An <see cref="IProgress{T}"/> that reports on the caller's thread, in order (<see cref="Progress{T}"/> posts each
/// report to the thread pool, so the last file's 100% could land after "applied").
/// </summary>
internal sealed class ImmediateProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
