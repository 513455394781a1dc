namespace FleetTwin.Ingest.Reading;

/// <summary>
/// Supplies the year BSD syslog leaves out. The first record takes the given year, or the reference time's year
/// (the year before when its month is later than the reference's: a file last written in January that starts in
/// December). After that a jump back of six months or more (December -> January) is a new year.
/// </summary>
internal sealed class SyslogYear
{
    private readonly int? _explicitYear;
    private readonly DateTimeOffset? _reference;
    private int _year;
    private int _lastMonth;

    public SyslogYear(int? explicitYear, DateTimeOffset? reference)
    {
        _explicitYear = explicitYear;
        _reference = reference;
    }

    /// <summary>The year of a record in <paramref name="month"/>, or 0 when nothing tells.</summary>
    public int For(int month)
    {
        if (_year == 0)
        {
            if (_explicitYear is int y)
            {
                _year = y;
            }
            else if (_reference is DateTimeOffset r)
            {
                _year = month > r.Month ? r.Year - 1 : r.Year;
            }
            else
            {
                return 0;
            }
            _lastMonth = month;
            return _year;
        }
        if (month < _lastMonth && _lastMonth - month >= 6)
        {
            _year++;
        }
        // A small step back (records from several hosts slightly out of order) is not a new year.
        if (month > _lastMonth || _lastMonth - month >= 6)
        {
            _lastMonth = month;
        }
        return _year;
    }
}
