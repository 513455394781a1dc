using FleetTwin.Domain.Allocation;

namespace FleetTwin.Domain.Tests.Allocation;

public class SwiotlbPoolSizeTests
{
    [Theory]
    [InlineData(64, 32_768)]
    [InlineData(128, 65_536)]
    [InlineData(2, 1_024)]
    public void XenServer_swiotlb_option_counts_MiB(int mib, int slabs) => Assert.Equal(slabs, SwiotlbPoolSize.FromMiB(mib).Slabs);

    [Theory]
    [InlineData(1, 128)]
    [InlineData(128, 128)]
    [InlineData(129, 256)]
    [InlineData(32_768, 32_768)]
    public void Slab_counts_round_up_to_whole_segments(int requested, int slabs) => Assert.Equal(slabs, SwiotlbPoolSize.FromSlabs(requested).Slabs);

    [Theory]
    [InlineData(256L * 1024 * 1024, 2)]
    [InlineData(768L * 1024 * 1024, 4)]
    [InlineData(1536L * 1024 * 1024, 8)]
    [InlineData(2048L * 1024 * 1024, 64)]
    [InlineData(4096L * 1024 * 1024, 64)]
    public void A_small_dom0_gets_a_smaller_default_pool(long dom0Bytes, int mib) =>
        Assert.Equal(SwiotlbPoolSize.FromMiB(mib), SwiotlbPoolSize.XenDom0DefaultFor(dom0Bytes));

    [Theory]
    [InlineData("root=LABEL=root-xyz ro swiotlb=128 console=hvc0", 128, false)]
    [InlineData("swiotlb=256,force", 256, false)]
    [InlineData("swiotlb=64 swiotlb=128", 128, false)]
    public void The_dom0_command_line_sets_the_pool_in_MiB(string cmdline, int mib, bool disabled)
    {
        Assert.Equal(SwiotlbPoolSize.FromMiB(mib), SwiotlbPoolSize.FromXenDom0CommandLine(cmdline, out var off));
        Assert.Equal(disabled, off);
    }

    [Fact]
    public void A_command_line_without_the_option_leaves_the_default_to_the_caller_and_off_is_reported()
    {
        Assert.Null(SwiotlbPoolSize.FromXenDom0CommandLine("ro console=hvc0", out var off));
        Assert.False(off);
        Assert.Null(SwiotlbPoolSize.FromXenDom0CommandLine("swiotlb=off", out off));
        Assert.True(off);
    }

    [Fact]
    public void A_bad_swiotlb_value_is_a_format_error_naming_the_option()
    {
        var error = Assert.Throws<FormatException>(() => SwiotlbPoolSize.FromXenDom0CommandLine("ro swiotlb=lots", out _));
        Assert.Contains("swiotlb=lots", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => SwiotlbPoolSize.FromMiB(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SwiotlbPoolSize.FromSlabs(-5));
    }

    [Fact]
    public void Sizes_print_in_MiB_and_slabs() => Assert.Equal("64 MiB (32768 slabs)", SwiotlbPoolSize.XenServerDefault.ToString());
}
