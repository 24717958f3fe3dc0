/// The sparse dimension Milvus gives a token in a BM25 vector: the CRC-32 (IEEE) of its first
/// 100 UTF-8 bytes, modulo 2^32 - 1. Using the same function as Milvus keeps the vectors a client
/// reads back (and `run_analyzer`'s `hash`) identical to Milvus's.
public enum TermHash {
    static let prefixBytes = 100

    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func of(_ token: String) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in token.utf8.prefix(prefixBytes) { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return (crc ^ 0xFFFF_FFFF) % UInt32.max
    }
}
