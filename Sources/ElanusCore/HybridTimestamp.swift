/// Milvus's hybrid timestamps: physical milliseconds in the high bits, an 18-bit logical counter
/// in the low bits, so that many timestamps can be issued within one millisecond and every
/// timestamp still orders with wall-clock time.
public enum HybridTimestamp {
    public static let logicalBits: UInt64 = 18
    public static let logicalMask: UInt64 = (1 << logicalBits) - 1

    public static func compose(physicalMs: UInt64, logical: UInt64) -> UInt64 {
        (physicalMs << logicalBits) | (logical & logicalMask)
    }

    public static func physicalMs(_ ts: UInt64) -> UInt64 { ts >> logicalBits }
    public static func logical(_ ts: UInt64) -> UInt64 { ts & logicalMask }
}
