using System.Globalization;
using Spectre.Console;

namespace FleetTwin.Cli.Output;

/// <summary>One cell: its text and, on a terminal, its style (a risk level's colour).</summary>
internal readonly record struct Cell(string Text, Style? Style = null)
{
    public static implicit operator Cell(string text) => new(text);
}

/// <summary>
/// A table of the CLI's human output, drawn by Spectre.Console: on a terminal with rounded borders, bold headers and
/// coloured cells; elsewhere (<see cref="Terminal"/>) without border, headers and cells left-aligned (numbers
/// right-aligned) in columns two spaces apart, one row per line — what scripts and tickets read.
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
            var found = false;
            for (var i = 0; i < _headers.Length; i++)
            {
                if (_headers[i] == header)
                    found = _right.Add(i) || true;
            }
            if (!found)
                throw new ArgumentException($"no column '{header}'", nameof(headers));
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

    public string Render(Terminal terminal) => terminal.Render(For(terminal));

    public void Write(Terminal terminal) => terminal.Write(For(terminal));

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Number(double? value, string format = "0.###") => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    /// <summary>"-" for what the twin did not say (an empty proto string).</summary>
    public static string Or(string? value) => string.IsNullOrEmpty(value) ? "-" : value;
}
