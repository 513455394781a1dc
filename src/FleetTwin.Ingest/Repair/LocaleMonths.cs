using System.Text;

namespace FleetTwin.Ingest.Repair;

/// <summary>
/// Month names as journalctl prints them in an operator's locale. journalctl's short format goes through
/// strftime's <c>%b</c>, i.e. glibc's LC_TIME <c>abmon</c> (French <c>juil.</c>, German <c>Okt</c>, Polish
/// <c>paź</c>, Russian <c>окт</c>), so the table holds glibc's abbreviations and full names of common locales.
/// It is a fixed table rather than CultureInfo data because the build runs with invariant globalization (no ICU),
/// where every culture reports the invariant (English) names. Built once; lookups compare bytes and allocate nothing.
/// </summary>
internal static class LocaleMonths
{
    private static readonly (byte[] Name, int Month)[] Names = Build();

    /// <summary>
    /// Month 1-12 when <paramref name="s"/> starts with a month name followed by a space (an optional trailing dot
    /// and any letter case allowed); <paramref name="length"/> is the bytes up to the space. 0 otherwise.
    /// </summary>
    public static int Match(ReadOnlySpan<byte> s, out int length)
    {
        length = s.IndexOf((byte)' ');
        if (length < 3 || length > 12)
        {
            return 0;
        }
        var token = s[..length];
        if (token[^1] == '.')
        {
            token = token[..^1];
        }
        Span<byte> lower = stackalloc byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            byte b = token[i];
            lower[i] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
        }
        foreach (var (name, month) in Names)
        {
            if (lower.SequenceEqual(name))
            {
                return month;
            }
        }
        return 0;
    }

    private static (byte[], int)[] Build()
    {
        // One row per locale, January first (glibc localedata LC_TIME abmon, then mon). Non-ASCII names are
        // written lower-case here; ASCII letters of the input are folded to lower case before comparing.
        string[] rows =
        [
            "jan feb mar apr may jun jul aug sep oct nov dec",                          // en
            "january february march april may june july august september october november december",
            "janv févr mars avr mai juin juil août sept oct nov déc",                 // fr
            "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
            "jan feb mär apr mai jun jul aug sep okt nov dez",                          // de
            "januar februar märz april mai juni juli august september oktober november dezember",
            "ene feb mar abr may jun jul ago sep oct nov dic",                          // es
            "gen feb mar apr mag giu lug ago set ott nov dic",                          // it
            "jan fev mar abr mai jun jul ago set out nov dez",                          // pt
            "jan feb mrt apr mei jun jul aug sep okt nov dec",                          // nl
            "jan feb mar apr maj jun jul aug sep okt nov dec",                          // sv, da, nb
            "sty lut mar kwi maj cze lip sie wrz paź lis gru",                          // pl
            "led úno bře dub kvě čen čec srp zář říj lis pro",                          // cs
            "янв фев мар апр мая июн июл авг сен окт ноя дек",                          // ru
            "січ лют бер кві тра чер лип сер вер жов лис гру",                          // uk
            "oca şub mar nis may haz tem ağu eyl eki kas ara",                          // tr
        ];
        var names = new List<(byte[], int)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string row in rows)
        {
            string[] months = row.Split(' ');
            for (int m = 0; m < months.Length; m++)
            {
                if (seen.Add(months[m]))
                {
                    names.Add((Encoding.UTF8.GetBytes(months[m]), m + 1));
                }
            }
        }
        return [.. names];
    }
}
