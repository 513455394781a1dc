using System.Globalization;
using System.Text;
using Spectre.Console;

namespace FleetTwin.Cli.Output;

/// <summary>One cell: its text and, on a terminal, its style (a risk level's colour).</summary>
internal readonly record struct Cell(string Text, Style? Style = null)
{
    public static implicit operator Cell(string text) => new(text);
}

/// <summary>
/// A table of the CLI's human output. On a terminal Spectre.Console draws it: rounded borders, bold headers, coloured
/// cells, wrapped to the terminal's width. Elsewhere (<see cref="Terminal"/>) it is plain columns: headers and cells
/// left-aligned (numbers right-aligned), two blanks apart, one row per line, no trailing blanks — what scripts and
/// tickets read. The plain form is laid out here rather than by Spectre with an invisible border: Spectre measures
/// and lays out every cell as a renderable, about 0.25 ms a row (2.4 s for a 10,000-host <c>hosts | grep</c>, against
/// 40 ms for plain columns; docs/perf.md, "Issue 22"), and a pipe needs none of it.
/// </summary>
internal sealed class TextTable
{
    private readonly string[] _headers;
    private readonly HashSet<int> _right = [];
    private readonly List<Cell[]> _rows = [];

    public TextTable(params string[] headers) => _headers = headers;

    public int Count => _rows.Count;

    /// <summary>Right-aligns every column headed by one of <paramref name="headers"/> (counts, sizes).</summary>
    public TextTable AlignRight(params string[] headers)
    {
        foreach (var header in headers)
        {
            var columns = Enumerable.Range(0, _headers.Length).Where(i => _headers[i] == header).ToList();
            if (columns.Count == 0)
                throw new ArgumentException($"no column '{header}'", nameof(headers));
            _right.UnionWith(columns);
        }
        return this;
    }

    public void Add(params Cell[] cells)
    {
        if (cells.Length != _headers.Length)
            throw new ArgumentException($"{cells.Length} cells for {_headers.Length} columns", nameof(cells));
        _rows.Add(cells);
    }

    /// <summary>The Spectre table for <paramref name="terminal"/>.</summary>
    public Table For(Terminal terminal)
    {
        var table = new Table();
        if (terminal.IsTerminal)
            table.Border(TableBorder.Rounded).BorderColor(Color.Grey);
        else
            table.Border(TableBorder.None);
        var header = terminal.IsTerminal ? new Style(decoration: Decoration.Bold) : Style.Plain;
        for (var i = 0; i < _headers.Length; i++)
        {
            var column = new TableColumn(new Text(_headers[i], header))
            {
                Alignment = _right.Contains(i) ? Justify.Right : Justify.Left,
                // Plain: no padding before the first column (a row starts with its host) and two blanks between columns.
                Padding = terminal.IsTerminal ? new Padding(1, 0, 1, 0) : new Padding(0, 0, i == _headers.Length - 1 ? 0 : 2, 0),
                NoWrap = !terminal.IsTerminal,
            };
            table.AddColumn(column);
        }
        foreach (var row in _rows)
            table.AddRow(row.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c.Text, terminal.IsTerminal ? c.Style ?? Style.Plain : Style.Plain)));
        return table;
    }

    /// <summary>The table as <paramref name="terminal"/> shows it, every line indented by <paramref name="indent"/> blanks.</summary>
    public string Render(Terminal terminal, int indent = 0)
    {
        if (!terminal.IsTerminal)
            return Plain(indent);
        return terminal.Render(indent == 0 ? For(terminal) : new Padder(For(terminal), new Padding(indent, 0, 0, 0)));
    }

    public void Write(Terminal terminal)
    {
        terminal.Writer.Write(Render(terminal));
        terminal.Writer.Flush();
    }

    private string Plain(int indent)
    {
        var widths = new int[_headers.Length];
        for (var i = 0; i < _headers.Length; i++)
            widths[i] = _headers[i].Length;
        foreach (var row in _rows)
        {
            for (var i = 0; i < row.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Text.Length);
        }
        var text = new StringBuilder();
        void Line(Func<int, string> cell)
        {
            var start = text.Length;
            text.Append(' ', indent);
            for (var i = 0; i < widths.Length; i++)
            {
                var value = cell(i);
                if (_right.Contains(i))
                    text.Append(' ', widths[i] - value.Length).Append(value);
                else
                    text.Append(value).Append(' ', widths[i] - value.Length);
                if (i < widths.Length - 1)
                    text.Append("  ");
            }
            var end = text.Length;
            while (end > start && text[end - 1] == ' ')
                end--;
            text.Length = end;
            text.Append('\n');
        }
        Line(i => _headers[i]);
        foreach (var row in _rows)
            Line(i => row[i].Text);
        return text.ToString();
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Number(double? value, string format = "0.###") => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    /// <summary>"-" for what the twin did not say (an empty proto string).</summary>
    public static string Or(string? value) => string.IsNullOrEmpty(value) ? "-" : value;
}
