using Orleans.Serialization;
using Orleans.Storage;

namespace FleetTwin.Twin.Serialization;

/// <summary>
/// Grain state in Orleans' binary format, serialized through a pooled buffer into one exact-size array. (Orleans'
/// own <see cref="OrleansGrainStorageSerializer"/> grows an <c>ArrayBufferWriter</c> from 256 bytes by doubling, which
/// copied a host's state several times on every write — a host writes after every batch.)
/// </summary>
public sealed class TwinGrainStorageSerializer(Serializer serializer) : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) => new(serializer.SerializeToArray(input));

    public T Deserialize<T>(BinaryData input) =>
        serializer.Deserialize<T>(input.ToMemory()) ?? throw new InvalidDataException($"stored {typeof(T).Name} deserialized to null");
}
