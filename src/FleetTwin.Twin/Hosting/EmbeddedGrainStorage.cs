using System.Collections.Concurrent;
using Orleans.Storage;

namespace FleetTwin.Twin.Hosting;

/// <summary>
/// Grain state of the embedded single-silo twin, kept in this process. Orleans' memory storage keeps state in storage
/// grains, so every write was a grain call with a copy of the state, and at shutdown the storage grains could be gone
/// before the grains that still had a last write to make (the host index and inventory write at most every 200 ms).
/// State is still serialized on every write (a stored copy, never the live object) and optimistic concurrency holds:
/// a write with a stale ETag is refused as Orleans' providers refuse it.
/// </summary>
public sealed class EmbeddedGrainStorage(IGrainStorageSerializer serializer) : IGrainStorage
{
    private readonly ConcurrentDictionary<(string State, GrainId Grain), Stored> _states = new();
    private long _lastETag;

    private sealed record Stored(BinaryData Data, string ETag);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_states.TryGetValue((stateName, grainId), out var stored))
        {
            grainState.State = serializer.Deserialize<T>(stored.Data);
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = serializer.Serialize(grainState.State);
        var key = (stateName, grainId);
        var written = new Stored(data, Interlocked.Increment(ref _lastETag).ToString(System.Globalization.CultureInfo.InvariantCulture));
        while (true)
        {
            if (_states.TryGetValue(key, out var current))
            {
                CheckETag(stateName, grainId, current.ETag, grainState.ETag);
                if (_states.TryUpdate(key, written, current))
                    break;
            }
            else
            {
                CheckETag(stateName, grainId, null, grainState.ETag);
                if (_states.TryAdd(key, written))
                    break;
            }
        }
        grainState.ETag = written.ETag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId);
        if (_states.TryGetValue(key, out var current))
        {
            CheckETag(stateName, grainId, current.ETag, grainState.ETag);
            _states.TryRemove(KeyValuePair.Create(key, current));
        }
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static void CheckETag(string stateName, GrainId grainId, string? stored, string? expected)
    {
        if (!string.Equals(stored, expected, StringComparison.Ordinal))
            throw new InconsistentStateException($"state '{stateName}' of {grainId}: stored version {stored ?? "(none)"}, the grain expected {expected ?? "(none)"}", stored ?? "", expected ?? "");
    }
}
