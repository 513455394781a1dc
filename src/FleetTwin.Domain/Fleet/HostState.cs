using System.Globalization;
using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Events;

namespace FleetTwin.Domain.Fleet;

/// <summary>
/// What the twin knows about one dom0 host, accumulated from its events in any order and from any number of copies
/// of the same log (kern.log and the crash console's dom0.log overlap: the same record is counted once). Plain data
/// with public properties so a grain can persist it as it is.
/// </summary>
public sealed class HostState
{
    /// <summary>
    /// Records remembered for de-duplication; older ones are forgotten (bounded memory and state per host). Two copies
    /// of the same log (kern.log and the crash console) overlap by at most the records of one incident.
    /// </summary>
    public const int RememberedRecordKeys = 2048;

    /// <summary>Exhaustion records kept individually for the predictor (counts stay exact beyond this).</summary>
    public const int KeptExhaustionRecords = 256;

    /// <summary>
    /// VM starts kept individually (the latest; <see cref="VmStartEvents"/> counts all): a host's state is persisted
    /// after every batch, and a long-lived host starts VMs without end.
    /// </summary>
    public const int KeptVmStartRecords = 256;

    /// <summary>Boots before the current one kept as summaries (<see cref="PreviousBoots"/>): the host's history.</summary>
    public const int KeptPreviousBoots = 16;

    /// <summary>
    /// Records of one boot carry the same wall-clock start (time − uptime) to within this: syslog stamps a record when
    /// the daemon reads it, so the boot messages rsyslog reads from the kernel's buffer at start-up, and a clock NTP
    /// steps after boot, put a boot's implied start up to a few minutes apart. A reboot moves it by the old boot's
    /// uptime plus the restart.
    /// </summary>
    public const double BootStartToleranceSeconds = 300;

    public string Name { get; set; } = "";
    public string? Uuid { get; set; }
    public string? Pool { get; set; }
    public string? Address { get; set; }
    public string? XenServerRelease { get; set; }
    public bool XenServerReleaseConfirmed { get; set; }
    public string? Kernel { get; set; }
    public int Boots { get; set; }
    public DateTimeOffset? LastBootTime { get; set; }
    public int LogDaemonRestarts { get; set; }
    public int? SwiotlbMiB { get; set; }
    public bool SwiotlbDisabled { get; set; }
    public long? MemoryTotalBytes { get; set; }
    public long? MemoryFreeBytes { get; set; }
    public double? LastUptime { get; set; }

    /// <summary>
    /// The earliest uptime the current boot's records reach: where its log coverage starts (the predictor's exposure).
    /// <see cref="LastUptime"/>, <see cref="FirstUptime"/> and <see cref="QuietSeconds"/> are the current boot's.
    /// </summary>
    public double? FirstUptime { get; set; }

    /// <summary>
    /// The boot the host is in, counted from 0 by the boots the twin has told apart (<see cref="BeginBoot"/>); every
    /// exhaustion, panic and VM start record carries the boot it happened in.
    /// </summary>
    public int CurrentBoot { get; set; }

    /// <summary>When the current boot started by the wall clock, as its records imply it (time − uptime); null until a record carries a time.</summary>
    public DateTimeOffset? CurrentBootStarted { get; set; }

    /// <summary>Exhaustion records of the current boot (exact; <see cref="Exhaustions"/> keeps only the latest).</summary>
    public long CurrentBootExhaustions { get; set; }

    /// <summary>The boots before the current one, oldest first (the last <see cref="KeptPreviousBoots"/>).</summary>
    public List<BootSummary> PreviousBoots { get; set; } = [];
    public DateTimeOffset? LastTime { get; set; }

    /// <summary>
    /// How long the twin has heard nothing new from the host since the record at <see cref="LastUptime"/>, in seconds
    /// of the twin's clock, as its last quiet check measured it (0 when a record just arrived). A host that stopped
    /// failing is quiet, not frozen at its last record: the live twin assesses it at <see cref="AssessmentUptime"/>, so
    /// its critical hold and its recent-failure window run out while nothing is logged.
    /// </summary>
    public double QuietSeconds { get; set; }

    /// <summary>The host's uptime now as the twin knows it: the last record's plus the quiet time since.</summary>
    public double? AssessmentUptime => LastUptime + QuietSeconds;
    public long AppliedEvents { get; set; }
    public long DuplicateRecords { get; set; }

    public long ExhaustionEvents { get; set; }
    public long LargestFailedMappingBytes { get; set; }
    public Dictionary<string, long> ExhaustionEventsByDevice { get; set; } = new(StringComparer.Ordinal);
    public List<ExhaustionRecord> Exhaustions { get; set; } = [];
    public List<PanicRecord> Panics { get; set; } = [];
    public List<VmRunRecord> VmStarts { get; set; } = [];
    public long VmStartEvents { get; set; }
    public int VmStops { get; set; }

    /// <summary>NIC device name (eth4) -> PCI bus id (0000:04:00.0), from ethtool -i.</summary>
    public Dictionary<string, string> BusIdByDevice { get; set; } = new(StringComparer.Ordinal);

    /// <summary>NIC device names the twin has facts for.</summary>
    public SortedSet<string> Nics { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Bond uuids or names seen on this host.</summary>
    public SortedSet<string> Bonds { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Hotfixes applied (name-label), from xe patch-list / update-list.</summary>
    public SortedSet<string> Hotfixes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>VMs resident on the host (uuid -> memory bytes), from xe vm-list.</summary>
    public Dictionary<string, long> ResidentVmMemory { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// 64-bit fingerprints of recently applied records (FNV-1a of the record key), oldest first, packed 8 bytes each:
    /// a byte array persists as one compact blob instead of thousands of numbers.
    /// </summary>
    public byte[] RecentRecordFingerprints { get; set; } = [];
    private Queue<ulong>? _order;
    private HashSet<ulong>? _keys;

    /// <summary>Applies one event. Returns false when it duplicates a record already applied.</summary>
    public bool Apply(TwinEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (RecordFingerprint(e) is { } fingerprint && !Remember(fingerprint))
        {
            DuplicateRecords++;
            return false;
        }
        AppliedEvents++;
        var boot = CurrentBoot;
        if (e.Uptime is { } uptime)
        {
            boot = BootOf(e, uptime);
            if (boot == CurrentBoot)
            {
                if (FirstUptime is null || uptime < FirstUptime)
                    FirstUptime = uptime;
                if (LastUptime is null || uptime > LastUptime)
                {
                    LastUptime = uptime;
                    QuietSeconds = 0;
                }
                if (CurrentBootStarted is null && e.Time is { } stamped)
                    CurrentBootStarted = stamped.AddSeconds(-uptime);
            }
        }
        if (boot != CurrentBoot && e.Uptime is { } late && IndexOfEarlierBoot(boot) is var earlier and >= 0
            && !(PreviousBoots[earlier].LastUptime >= late))
            PreviousBoots[earlier] = PreviousBoots[earlier] with { LastUptime = late };
        if (e.Time is { } time && (LastTime is null || time > LastTime))
            LastTime = time;

        switch (e)
        {
            case SwiotlbExhausted x: ApplyExhaustion(x, boot); break;
            case KernelPanic p: ApplyPanic(p, boot); break;
            case KernelBoot b: ApplyBoot(b); break;
            case LogDaemonRestart: LogDaemonRestarts++; break;
            case Dom0CommandLine c: ApplyCommandLine(c); break;
            case VmStarted v: ApplyVmStart(v, boot); break;
            case VmStopped: VmStops++; break;
            case NicDriver d:
                if (d.Device is not null)
                {
                    Nics.Add(d.Device);
                    if (d.BusInfo is not null)
                        BusIdByDevice[d.Device] = d.BusInfo;
                }
                break;
            case NicOffloads o when o.Device is not null: Nics.Add(o.Device); break;
            case PifFact pif when pif.Device is not null && pif.Physical != false: Nics.Add(pif.Device); break;
            case BondFact bond: Bonds.Add(bond.Uuid); break;
            case XenHostFact h: ApplyHostFact(h); break;
            case PoolFact pool: Pool = pool.NameLabel ?? pool.Uuid; break;
            case HotfixFact fix: Hotfixes.Add(fix.NameLabel ?? fix.Uuid); break;
            case VmFact vm when vm.IsControlDomain != true && vm.PowerState is null or "running":
                ResidentVmMemory[vm.Uuid] = vm.MemoryActual ?? vm.MemoryStaticMax ?? 0;
                break;
        }
        return true;
    }

    /// <summary>
    /// Which boot a record belongs to, starting a new one when it shows the host rebooted: a boot line (or any record
    /// with a wall-clock time) below the current boot's uptime whose implied start is later than the current boot's
    /// by more than <see cref="BootStartToleranceSeconds"/>, or a boot line below it without a time. A record whose
    /// implied start is earlier, or an unstamped one whose uptime the current boot cannot have reached yet, belongs to
    /// the earlier boot <see cref="EarlierBootOf"/> finds (the crash console's log of the last boot, read after the
    /// reboot's kern.log) and leaves the current boot's coverage alone. Without wall-clock times only boot lines tell
    /// boots apart, and the same unstamped boot line twice is one record.
    /// </summary>
    private int BootOf(TwinEvent e, double uptime)
    {
        DateTimeOffset? started = e.Time is { } t ? t.AddSeconds(-uptime) : null;
        if (started is { } s && CurrentBootStarted is { } current)
        {
            if (s < current.AddSeconds(-BootStartToleranceSeconds))
                return EarlierBootOf(s, uptime);
            if (s > current.AddSeconds(BootStartToleranceSeconds) && uptime + 1 < LastUptime)
            {
                BeginBoot(uptime, e.Time);
                return CurrentBoot;
            }
            return CurrentBoot;
        }
        if (started is null && e is not KernelBoot && PreviousBoots.Count > 0 && CurrentBootStarted is { } since && LastTime is { } latest
            && uptime > Math.Max(LastUptime ?? 0, (latest - since).TotalSeconds) + BootStartToleranceSeconds)
        {
            // No time, and an uptime this boot has not reached by the clock of the latest timed record: the crash
            // console's log of an earlier boot (the KB's dom0.log, read after the kern.log that ends in the reboot).
            return EarlierBootOf(null, uptime);
        }
        if (e is KernelBoot && uptime + 1 < LastUptime)
            BeginBoot(uptime, e.Time);
        return CurrentBoot;
    }

    /// <summary>
    /// The kept earlier boot a record that is not the current boot's belongs to: the one that started when the
    /// record's time says (within the tolerance), else the latest whose log covered its uptime (up to an hour past
    /// its last record: the console shows the panic after the last line kern.log kept). Else the current boot after
    /// all: a record stamped when it was read rather than when it was printed (a file replayed through `logger` or
    /// rsyslog's imfile) carries a time that says nothing of its boot.
    /// </summary>
    private int EarlierBootOf(DateTimeOffset? started, double uptime)
    {
        if (started is { } at)
        {
            foreach (var b in PreviousBoots)
            {
                if (b.Started is { } s && Math.Abs((s - at).TotalSeconds) <= BootStartToleranceSeconds)
                    return b.Boot;
            }
        }
        for (var i = PreviousBoots.Count - 1; i >= 0; i--)
        {
            var b = PreviousBoots[i];
            if ((b.FirstUptime ?? 0) - BootStartToleranceSeconds <= uptime && uptime <= (b.LastUptime ?? 0) + 3600)
                return b.Boot;
        }
        return CurrentBoot;
    }

    /// <summary>
    /// Starts a new boot at <paramref name="uptime"/>: the current one is summarised into <see cref="PreviousBoots"/>
    /// and the coverage, quiet time and counters start again. Records are kept (with their boot) for the host's views;
    /// the predictor reads the current boot's and the summaries. Called when a record shows the reboot, or by a
    /// replay that knows where a boot starts (the backtest splits each file at its uptime going backwards).
    /// </summary>
    public void BeginBoot(double uptime, DateTimeOffset? time)
    {
        PreviousBoots.Add(SummariseCurrentBoot());
        if (PreviousBoots.Count > KeptPreviousBoots)
            PreviousBoots.RemoveAt(0);
        CurrentBoot++;
        CurrentBootStarted = time?.AddSeconds(-uptime);
        FirstUptime = uptime;
        LastUptime = uptime;
        QuietSeconds = 0;
        CurrentBootExhaustions = 0;
    }

    private BootSummary SummariseCurrentBoot()
    {
        PanicRecord? panic = null;
        foreach (var p in Panics)
        {
            if (p.Boot == CurrentBoot && Prediction.PanicPredictor.IsSwiotlbPanic(p))
                panic = p;
        }
        return new BootSummary(CurrentBoot, CurrentBootStarted, FirstUptime, LastUptime, CurrentBootExhaustions, panic?.Uptime, panic?.CauseBytes);
    }

    /// <summary>Where boot <paramref name="boot"/> is in <see cref="PreviousBoots"/>, or -1. A loop, not a lambda: a
    /// captured boot number would allocate a closure on every record applied.</summary>
    private int IndexOfEarlierBoot(int boot)
    {
        for (var i = 0; i < PreviousBoots.Count; i++)
        {
            if (PreviousBoots[i].Boot == boot)
                return i;
        }
        return -1;
    }

    /// <summary>The index of the first kept exhaustion record of the current boot (records are in boot, then uptime order).</summary>
    public int CurrentBootExhaustionStart()
    {
        var i = Exhaustions.Count;
        while (i > 0 && Exhaustions[i - 1].Boot >= CurrentBoot)
            i--;
        return i;
    }

    /// <summary>The device name for a bus id when ethtool -i told us (<c>eth5</c>), else null.</summary>
    public string? DeviceOf(string busId)
    {
        foreach (var (device, bus) in BusIdByDevice)
        {
            if (bus == busId)
                return device;
        }
        return null;
    }

    private void ApplyExhaustion(SwiotlbExhausted x, int boot)
    {
        ExhaustionEvents++;
        if (boot == CurrentBoot)
            CurrentBootExhaustions++;
        else if (IndexOfEarlierBoot(boot) is var earlier and >= 0)
            PreviousBoots[earlier] = PreviousBoots[earlier] with { Exhaustions = PreviousBoots[earlier].Exhaustions + 1 };
        var device = x.Device ?? "?";
        ExhaustionEventsByDevice[device] = ExhaustionEventsByDevice.GetValueOrDefault(device) + 1;
        LargestFailedMappingBytes = Math.Max(LargestFailedMappingBytes, x.Bytes);
        // Keep them ordered by boot, then uptime: kern.log and dom0.log of the same boot may arrive in either order.
        var record = new ExhaustionRecord(x.Uptime, x.Time, x.Bytes, device, x.Variant, x.Driver, boot);
        var at = Exhaustions.Count;
        while (at > 0 && (Exhaustions[at - 1].Boot > boot || (Exhaustions[at - 1].Boot == boot && Compare(Exhaustions[at - 1].Uptime, record.Uptime) > 0)))
            at--;
        Exhaustions.Insert(at, record);
        if (Exhaustions.Count > KeptExhaustionRecords)
            Exhaustions.RemoveAt(0);
    }

    private void ApplyVmStart(VmStarted v, int boot)
    {
        VmStartEvents++;
        VmStarts.Add(new VmRunRecord(v.Domid, v.Uptime, v.Time, v.Evidence, boot));
        if (VmStarts.Count > KeptVmStartRecords)
            VmStarts.RemoveAt(0);
    }

    private void ApplyPanic(KernelPanic p, int boot)
    {
        // The cause is the out-of-space record printed just before the panic (swiotlb_full() prints, then panics):
        // the latest failed mapping at most a second earlier, over the 32 KiB overflow buffer.
        ExhaustionRecord? cause = null;
        if (p.Uptime is { } uptime)
        {
            foreach (var x in Exhaustions)
            {
                if (x.Boot == boot && x.Uptime is { } u && u <= uptime && uptime - u <= 1.0 && x.Bytes > SwiotlbGeometry.OverflowBufferBytes)
                    cause = x;
            }
        }
        var direction = p.Message switch
        {
            var m when m.EndsWith("DMA read", StringComparison.Ordinal) => "to-device",
            var m when m.EndsWith("DMA written", StringComparison.Ordinal) => "from-device",
            var m when m.EndsWith("DMA accessed", StringComparison.Ordinal) => "bidirectional",
            _ => null,
        };
        Panics.Add(new PanicRecord(p.Uptime, p.Time, p.Message, p.Comm, p.Pid, p.Trace.Take(12).ToArray(),
            cause?.Bytes, cause?.Device, direction, DriverFunctionOf(p.Trace), p.KernelVersion, boot));
        if (boot != CurrentBoot && IndexOfEarlierBoot(boot) is var earlier and >= 0
            && Prediction.PanicPredictor.IsSwiotlbPanic(Panics[^1]))
            PreviousBoots[earlier] = PreviousBoots[earlier] with { PanicUptime = p.Uptime, PanicCauseBytes = cause?.Bytes };
        if (p.KernelVersion is not null && Kernel is null)
            Kernel = p.KernelVersion;
    }

    /// <summary>The driver entry point that made the failing mapping: the first reliable frame after the swiotlb and panic frames.</summary>
    private static string? DriverFunctionOf(string[] trace)
    {
        foreach (var frame in trace)
        {
            if (frame is "panic" or "dump_stack" || frame.StartsWith("swiotlb", StringComparison.Ordinal)
                || frame.StartsWith("xen_swiotlb", StringComparison.Ordinal) || frame.StartsWith("dma_", StringComparison.Ordinal))
                continue;
            return frame;
        }
        return null;
    }

    private void ApplyBoot(KernelBoot b)
    {
        Boots++;
        if (b.Time is { } time && (LastBootTime is null || time >= LastBootTime))
        {
            LastBootTime = time;
            SetKernel(b.KernelVersion, b.XenServerRelease, b.ReleaseConfirmed);
        }
        else if (Kernel is null)
        {
            SetKernel(b.KernelVersion, b.XenServerRelease, b.ReleaseConfirmed);
        }
    }

    private void SetKernel(string kernel, string? release, bool confirmed)
    {
        Kernel = kernel;
        if (release is not null)
        {
            XenServerRelease = release;
            XenServerReleaseConfirmed = confirmed;
        }
    }

    private void ApplyCommandLine(Dom0CommandLine c)
    {
        SwiotlbDisabled = c.Swiotlb is not null && c.Swiotlb.Split(',').Contains("off");
        SwiotlbMiB = c.SwiotlbSize;
    }

    private void ApplyHostFact(XenHostFact h)
    {
        Uuid = h.Uuid;
        Address = h.Address ?? Address;
        MemoryTotalBytes = h.MemoryTotal ?? MemoryTotalBytes;
        MemoryFreeBytes = h.MemoryFree ?? MemoryFreeBytes;
        if (h.ProductVersion is { } version && XenServerRelease is null)
        {
            // product_version 6.2.0 -> release 6.2 (the release table names releases by major.minor).
            var parts = version.Split('.');
            XenServerRelease = parts.Length >= 2 ? parts[0] + "." + parts[1] : version;
            XenServerReleaseConfirmed = true;
        }
        if (h.Linux is not null && Kernel is null)
            Kernel = h.Linux;
    }

    /// <summary>
    /// Identity of a log record for de-duplication, as a 64-bit fingerprint (FNV-1a): the same kind of record at the
    /// same uptime (microseconds, as printk prints it; else the wall-clock millisecond) with the same content is the
    /// same record, whichever file it came from. Facts from command output are idempotent updates and need no key.
    /// Hashed field by field, without building a key string: this runs for every record the twin applies.
    /// </summary>
    private static ulong? RecordFingerprint(TwinEvent e)
    {
        long when;
        if (e.Uptime is { } u)
            when = (long)Math.Round(u * 1_000_000);
        else if (e.Time is { } t)
            when = t.ToUnixTimeMilliseconds();
        else
            return null;
        var key = Fnv1a64.Start;
        return e switch
        {
            SwiotlbExhausted x => key.Add('x').Add(when).Add(x.Bytes).Add(x.Device).Hash,
            KernelPanic p => key.Add('p').Add(when).Add(p.Message).Hash,
            KernelBoot b => key.Add('b').Add(b.Time?.ToUnixTimeSeconds() ?? long.MinValue).Add(when).Add(b.KernelVersion).Hash,
            VmStarted v => key.Add('s').Add(when).Add(v.Domid).Hash,
            VmStopped v => key.Add('t').Add(when).Add(v.Domid).Hash,
            LogDaemonRestart d => key.Add('d').Add(e.Time?.ToUnixTimeSeconds() ?? long.MinValue).Add(d.Daemon).Hash,
            _ => null,
        };
    }

    private bool Remember(ulong fingerprint)
    {
        // A fingerprint instead of the key keeps a host's memory and persisted state small; 64 bits make a collision
        // among a few thousand remembered records vanishingly unlikely (~1e-13).
        if (_keys is null)
        {
            var stored = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(RecentRecordFingerprints);
            _order = new Queue<ulong>(stored.Length + 1);
            _keys = new HashSet<ulong>(stored.Length + 1);
            foreach (var f in stored)
            {
                _order.Enqueue(f);
                _keys.Add(f);
            }
        }
        if (!_keys.Add(fingerprint))
            return false;
        _order!.Enqueue(fingerprint);
        if (_order.Count > RememberedRecordKeys)
            _keys.Remove(_order.Dequeue());
        _fingerprintsDirty = true;
        return true;
    }

    private bool _fingerprintsDirty;

    /// <summary>Packs the remembered fingerprints into <see cref="RecentRecordFingerprints"/> before the state is persisted.</summary>
    public void PrepareForPersistence()
    {
        if (!_fingerprintsDirty || _order is null)
            return;
        var packed = new ulong[_order.Count];
        _order.CopyTo(packed, 0);
        RecentRecordFingerprints = System.Runtime.InteropServices.MemoryMarshal.AsBytes(packed.AsSpan()).ToArray();
        _fingerprintsDirty = false;
    }

    private static int Compare(double? a, double? b) => (a ?? double.MinValue).CompareTo(b ?? double.MinValue);
}

/// <summary>One failed bounce mapping the host logged.</summary>
/// <param name="Variant">
/// Which message text it was (<see cref="SwiotlbMessageVariant"/>): the 4.x+ <c>swiotlb buffer is full</c> form comes
/// from kernels whose swiotlb never panics, so the predictor gives it no panic hazard. Null for records kept before
/// the variant was recorded.
/// </param>
/// <param name="Driver">The driver that printed it (dev_err form <c>bnx2x 0000:04:00.0: …</c>), or null: tells NIC from storage.</param>
/// <param name="Boot">The host's boot it happened in (<see cref="HostState.CurrentBoot"/> numbering).</param>
public sealed record ExhaustionRecord(double? Uptime, DateTimeOffset? Time, long Bytes, string Device, string? Variant = null, string? Driver = null, int Boot = 0);

/// <summary>One panic, with the failed mapping that caused it when the log shows one.</summary>
public sealed record PanicRecord(
    double? Uptime,
    DateTimeOffset? Time,
    string Message,
    string? Comm,
    int? Pid,
    string[] Trace,
    long? CauseBytes,
    string? CauseDevice,
    string? CauseDirection,
    string? Via,
    string? Kernel,
    int Boot = 0);

/// <summary>One start of a guest domain on the host.</summary>
public sealed record VmRunRecord(int Domid, double? Uptime, DateTimeOffset? Time, string Evidence, int Boot = 0);

/// <summary>
/// One earlier boot of a host, as the predictor remembers it: when it started, the uptimes its log covered, how many
/// mappings failed, and the swiotlb panic that ended it, if one did (with the size of the mapping that caused it).
/// </summary>
public sealed record BootSummary(int Boot, DateTimeOffset? Started, double? FirstUptime, double? LastUptime, long Exhaustions,
    double? PanicUptime, long? PanicCauseBytes)
{
    /// <summary>True when a swiotlb panic ended the boot.</summary>
    public bool Panicked => PanicUptime is not null;
}

/// <summary>
/// 64-bit FNV-1a over a record's identifying fields, as an immutable value (each Add returns the extended hash).
/// Stable across processes: the fingerprints are persisted.
/// </summary>
internal readonly struct Fnv1a64
{
    private const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;
    private readonly ulong _hash;

    private Fnv1a64(ulong hash) => _hash = hash;

    public static Fnv1a64 Start => new(Offset);

    public ulong Hash => _hash;

    public Fnv1a64 Add(char c) => new((_hash ^ c) * Prime);

    public Fnv1a64 Add(long value)
    {
        var hash = _hash;
        for (var i = 0; i < 8; i++, value >>= 8)
            hash = (hash ^ (byte)value) * Prime;
        return new(hash);
    }

    public Fnv1a64 Add(string? text)
    {
        // The length first, so that ("ab", "c") and ("a", "bc") differ; null and "" are the same record content.
        var hash = Add((long)(text?.Length ?? 0))._hash;
        foreach (var c in text.AsSpan())
            hash = (hash ^ c) * Prime;
        return new(hash);
    }
}
