namespace FleetTwin.Domain.Allocation;

/// <summary><c>enum dma_data_direction</c>: which way the device moves the bounced data.</summary>
public enum DmaDirection : byte
{
    /// <summary><c>DMA_BIDIRECTIONAL</c>.</summary>
    Bidirectional = 0,

    /// <summary><c>DMA_TO_DEVICE</c>: transmit (the NIC reads the buffer). The KB panic is a to-device mapping.</summary>
    ToDevice = 1,

    /// <summary><c>DMA_FROM_DEVICE</c>: receive (the NIC writes the buffer).</summary>
    FromDevice = 2,
}
