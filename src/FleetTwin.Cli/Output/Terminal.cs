using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FleetTwin.Cli.Output;

/// <summary>
/// What one of the CLI's output streams can show. Colours, borders and live progress bars only on a terminal: the
/// stream is the process's own stdout or stderr and not redirected, <c>NO_COLOR</c> is unset or empty
/// (https://no-color.org/: "when present and not an empty string, prevents the addition of ANSI color") and
/// <c>TERM</c> is not <c>dumb</c> (terminfo's name for a terminal without cursor movement). Anything else — a pipe, a
/// file, a test's StringWriter — gets plain text: no escape sequence at all, tables as columns aligned with spaces,
/// and no progress line (the verbs' summaries say what was done). <c>--json</c> output never passes through here.
/// </summary>
internal sealed class Terminal
{
    /// <summary>Wide enough that Spectre never wraps a redirected table or line: a script reads one row per line.</summary>
    private const int PlainWidth = 4096;

    private readonly ColorSystemSupport _colours;

    private Terminal(TextWriter writer, bool isTerminal, int width, ColorSystemSupport colours)
    {
        Writer = writer;
        IsTerminal = isTerminal;
        Width = width;
        _colours = isTerminal ? colours : ColorSystemSupport.NoColors;
    }

    public TextWriter Writer { get; }

    /// <summary>True: colours, borders and live progress; false: plain text.</summary>
    public bool IsTerminal { get; }

    public int Width { get; }

    /// <summary>The terminal behind <paramref name="writer"/>: only the process's own console streams can be one.</summary>
    public static Terminal For(TextWriter writer)
    {
        var tty = ReferenceEquals(writer, Console.Out) ? !Console.IsOutputRedirected
            : ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
        return tty && ColourAllowed(Environment.GetEnvironmentVariable("NO_COLOR"), Environment.GetEnvironmentVariable("TERM"))
            // Detect reads COLORTERM/TERM for the depth (truecolor, 256, 16 colours).
            ? new Terminal(writer, true, ConsoleWidth(), ColorSystemSupport.Detect)
            : new Terminal(writer, false, PlainWidth, ColorSystemSupport.NoColors);
    }

    /// <summary>Plain text into <paramref name="writer"/>, as for a pipe.</summary>
    public static Terminal Plain(TextWriter writer) => new(writer, false, PlainWidth, ColorSystemSupport.NoColors);

    /// <summary>A 256-colour terminal of <paramref name="width"/> columns behind <paramref name="writer"/>, whatever the environment says.</summary>
    public static Terminal Colour(TextWriter writer, int width = 120) => new(writer, true, width, ColorSystemSupport.EightBit);

    /// <summary>NO_COLOR set to anything but "" or TERM=dumb: no colour and no cursor movement.</summary>
    public static bool ColourAllowed(string? noColor, string? term) =>
        string.IsNullOrEmpty(noColor) && !string.Equals(term, "dumb", StringComparison.Ordinal);

    private static int ConsoleWidth()
    {
        try
        {
            return Console.WindowWidth is > 0 and var w ? w : 120;
        }
        catch (IOException)
        {
            return 120;
        }
    }

    /// <summary>A Spectre console drawing into <paramref name="into"/> with this terminal's capabilities.</summary>
    public IAnsiConsole ConsoleInto(TextWriter into)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = IsTerminal ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = _colours,
            Interactive = IsTerminal ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(into),
        });
        console.Profile.Width = Width;
        return console;
    }

    /// <summary>
    /// Renders <paramref name="renderable"/> as this terminal shows it. Plain text loses the blanks Spectre pads the
    /// last column with, so a redirected row ends with its last value.
    /// </summary>
    public string Render(IRenderable renderable)
    {
        var text = new StringWriter { NewLine = "\n" };
        ConsoleInto(text).Write(renderable);
        return IsTerminal ? text.ToString() : TrimLines(text.ToString());
    }

    /// <summary>Writes <paramref name="renderable"/> to the stream.</summary>
    public void Write(IRenderable renderable)
    {
        Writer.Write(Render(renderable));
        Writer.Flush();
    }

    /// <summary>One line of text, in <paramref name="style"/> on a terminal, as is otherwise.</summary>
    public string Styled(string text, Style? style) =>
        IsTerminal && style is not null ? Render(new Text(text, style)) : text;

    private static string TrimLines(string text)
    {
        var lines = text.Split('\n');
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            result.Append(lines[i].TrimEnd(' '));
            if (i < lines.Length - 1)
                result.Append('\n');
        }
        return result.ToString();
    }
}
