using System.Text;
using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Drivers;

namespace FleetTwin.Domain.Tests.Drivers;

public class DriverProfileTests
{
    [Fact]
    public void The_embedded_data_has_bnx2x_ixgbe_igb_and_tg3_with_a_source_for_every_ring_size()
    {
        foreach (var driver in new[] { "bnx2x", "ixgbe", "igb", "tg3" })
        {
            var profile = DriverProfiles.Embedded.Get(driver);
            Assert.False(string.IsNullOrWhiteSpace(profile.RxBuffersPerPortDefaultSource), driver);
            Assert.False(string.IsNullOrWhiteSpace(profile.RxBufferOverheadSource), driver);
            Assert.False(string.IsNullOrWhiteSpace(profile.TxLinearBytesSource), driver);
        }
    }

    [Fact]
    public void A_bnx2x_MTU_9000_RX_buffer_is_9158_bytes_five_slabs_and_bounces_only_with_GRO_off()
    {
        var bnx2x = DriverProfiles.Embedded.Get("bnx2x");
        Assert.Equal(9158, bnx2x.RxBufferBytes(9000));
        Assert.Equal(5, SwiotlbGeometry.SlabsFor(bnx2x.RxBufferBytes(9000)));
        Assert.True(bnx2x.RxBuffersBounce(9000, groOn: false));
        Assert.False(bnx2x.RxBuffersBounce(9000, groOn: true));
    }

    [Fact]
    public void MTU_1500_buffers_fit_in_a_page_and_never_bounce()
    {
        foreach (var driver in DriverProfiles.Embedded.Drivers)
            Assert.False(DriverProfiles.Embedded.Get(driver).RxBuffersBounce(1500, groOn: false), driver);
    }

    [Fact]
    public void Page_based_receive_drivers_never_bounce_RX_and_tg3_jumbo_ring_bounces_even_with_GRO_on()
    {
        Assert.False(DriverProfiles.Embedded.Get("ixgbe").RxBuffersBounce(9000, groOn: false));
        Assert.False(DriverProfiles.Embedded.Get("igb").RxBuffersBounce(9000, groOn: false));
        Assert.True(DriverProfiles.Embedded.Get("tg3").RxBuffersBounce(9000, groOn: true));
    }

    [Fact]
    public void TX_sizes_are_drawn_from_the_profile_mix_and_reach_past_the_overflow_buffer()
    {
        var bnx2x = DriverProfiles.Embedded.Get("bnx2x");
        var random = new Random(7);
        var sizes = Enumerable.Range(0, 20_000).Select(_ => bnx2x.SampleTxLinearBytes(random)).ToArray();
        Assert.All(sizes, s => Assert.InRange(s, 66, 65_160));
        Assert.Contains(sizes, s => s > SwiotlbGeometry.OverflowBufferBytes);
        Assert.InRange(sizes.Count(s => s is >= 14_000 and <= 32_768) / 20_000.0, 0.25, 0.33);
    }

    [Fact]
    public void An_unknown_driver_is_named_in_the_error_with_the_known_ones()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => DriverProfiles.Embedded.Get("e1000e"));
        Assert.Contains("e1000e", error.Message);
        Assert.Contains("bnx2x", error.Message);
    }

    [Fact]
    public void Broken_profile_data_is_rejected_naming_the_file_and_the_profile()
    {
        const string Json = """{ "profiles": [ { "driver": "x", "description": "d", "rxBuffersPerPortDefault": 0, "rxBufferOverheadBytes": 0, "rxLinearWhenGroOff": true, "txRingEntriesPerQueue": 1, "txLinearBytesMix": [ { "minBytes": 1, "maxBytes": 2, "weight": 1 } ], "txCompletionMicroseconds": 1 } ] }""";
        var error = Assert.Throws<InvalidDataException>(() => DriverProfiles.Load(new MemoryStream(Encoding.UTF8.GetBytes(Json)), "mine.json"));
        Assert.Contains("mine.json", error.Message);
        Assert.Contains("'x'", error.Message);
        var syntax = Assert.Throws<InvalidDataException>(() => DriverProfiles.Load(new MemoryStream("{ \"profiles\": [ {"u8.ToArray()), "bad.json"));
        Assert.Contains("bad.json", syntax.Message);
    }
}
