import CSystem
import ElanusCore

/// Key and value layout of WAL records in RocksDB:
/// - key: `wal/<channel>/` + position as 8 big-endian bytes, so keys sort by position;
/// - head: `head/<channel>` -> the channel's greatest position, 8 big-endian bytes;
/// - value: CRC-32C (4 bytes, little-endian) of position + payload, then the payload. Covering
///   the position too means a value copied under the wrong key is caught like a flipped bit.
enum LogRecordCodec {
    static func channelPrefix(_ channel: String) -> [UInt8] { Array("wal/\(channel)/".utf8) }

    static func key(_ channel: String, _ position: UInt64) -> [UInt8] {
        channelPrefix(channel) + bigEndian(position)
    }

    /// The channel's head: the greatest position ever handed out and written, stored beside the
    /// records (outside every channel's record prefix) in the same batch as the records it
    /// covers. Positions continue from it even when no record is left to read the last one from.
    static func headKey(_ channel: String) -> [UInt8] { Array("head/\(channel)".utf8) }

    static func decodeHead(_ value: [UInt8]) -> UInt64? {
        guard value.count == 8 else { return nil }
        return value.reduce(0) { ($0 << 8) | UInt64($1) }
    }

    static func bigEndian(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) } }

    static func position(fromKey key: [UInt8], prefixLength: Int) -> UInt64? {
        guard key.count == prefixLength + 8 else { return nil }
        return key[prefixLength...].reduce(0) { ($0 << 8) | UInt64($1) }
    }

    static func checksum(_ position: UInt64, _ payload: [UInt8]) -> UInt32 {
        let head = bigEndian(position)
        let c = head.withUnsafeBytes { csys_crc32c(0, $0.baseAddress, $0.count) }
        return payload.withUnsafeBytes { csys_crc32c(c, $0.baseAddress, $0.count) }
    }

    static func encodeValue(_ position: UInt64, _ payload: [UInt8]) -> [UInt8] {
        let crc = checksum(position, payload)
        var out = [UInt8(crc & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8((crc >> 16) & 0xFF), UInt8(crc >> 24)]
        out.append(contentsOf: payload)
        return out
    }

    static func decodeValue(_ value: [UInt8], channel: String, position: UInt64) throws(ElanusError) -> [UInt8] {
        guard value.count >= 4 else {
            throw .unexpected("WAL record \(channel)@\(position) is truncated (\(value.count) bytes)")
        }
        let stored = UInt32(value[0]) | UInt32(value[1]) << 8 | UInt32(value[2]) << 16 | UInt32(value[3]) << 24
        let payload = Array(value[4...])
        guard stored == checksum(position, payload) else {
            throw .unexpected("WAL record \(channel)@\(position) failed its checksum: the log is corrupt")
        }
        return payload
    }
}
