using FleetTwin.Domain.XenServer;

namespace FleetTwin.Domain.Tests.XenServer;

public class XenServerReleaseTableTests
{
    [Fact]
    public void The_KB_hosts_kernel_belongs_to_XenServer_6_2_and_the_row_is_confirmed()
    {
        var row = XenServerReleaseTable.Default.Find("2.6.32.43-0.4.1.xs1.8.0.853.170791xen");

        Assert.NotNull(row);
        Assert.Equal("6.2", row.Release);
        Assert.True(row.Confirmed);
    }

    [Fact]
    public void A_3_10_kernel_maps_to_the_6_5_and_7_x_family_and_is_marked_unconfirmed()
    {
        var row = XenServerReleaseTable.Default.Find("3.10.41-323");

        Assert.NotNull(row);
        Assert.Equal("6.5/7.x", row.Release);
        Assert.False(row.Confirmed);
    }

    [Fact]
    public void An_unknown_kernel_has_no_release_rather_than_a_guess()
    {
        Assert.Null(XenServerReleaseTable.Default.Find("6.1.0-13-amd64"));
    }

    [Fact]
    public void Every_row_names_its_source()
    {
        Assert.NotEmpty(XenServerReleaseTable.Default.Rows);
        Assert.All(XenServerReleaseTable.Default.Rows, row => Assert.False(string.IsNullOrWhiteSpace(row.Source)));
    }

    [Theory]
    [InlineData("2.6.32.*", "2.6.32.43-0.4.1", true)]
    [InlineData("2.6.32.*", "2.6.33", false)]
    [InlineData("2.6.32.43-*xs1.8.0*", "2.6.32.43-0.4.1.xs1.8.0.853.170791xen", true)]
    [InlineData("2.6.32.43-*xs1.8.0*", "2.6.32.43-0.4.1.xs1.6.0.1", false)]
    [InlineData("3.10.41", "3.10.41", true)]
    public void Patterns_match_with_star_as_any_run(string pattern, string kernel, bool expected)
    {
        Assert.Equal(expected, XenServerReleaseTable.Matches(pattern, kernel));
    }

    [Fact]
    public void A_table_without_a_releases_array_is_rejected_with_its_name()
    {
        using var json = new MemoryStream("{}"u8.ToArray());
        var error = Assert.Throws<InvalidDataException>(() => XenServerReleaseTable.Parse(json, "bad.json"));
        Assert.Contains("bad.json", error.Message);
    }
}
