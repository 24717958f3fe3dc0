/// A FIFO of received or pending bytes: append at the back, read and drop at the front.
///
/// Dropping only moves a start index; the storage is compacted on the next append once the
/// dropped prefix is at least half of it, so each byte is moved at most a constant number of
/// times and memory stays within twice the live bytes.
struct ByteQueue: Sendable {
    private var storage: [UInt8] = []
    private var start = 0

    var count: Int { storage.count - start }
    var isEmpty: Bool { count == 0 }

    /// The byte `offset` positions from the front; the caller has checked `offset < count`.
    subscript(offset: Int) -> UInt8 { storage[start + offset] }

    /// Big-endian 32-bit value at `offset`; the caller has checked four bytes are there.
    func uint32(at offset: Int) -> UInt32 { readUInt32(storage, start + offset) }

    /// `length` bytes starting `offset` from the front, without copying.
    func slice(_ offset: Int, _ length: Int) -> ArraySlice<UInt8> {
        storage[(start + offset)..<(start + offset + length)]
    }

    mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0 && start >= storage.count / 2 {
            storage.removeFirst(start)
            start = 0
        }
        storage.append(contentsOf: bytes)
    }

    /// Drops `n` bytes from the front (`n <= count`).
    mutating func discard(_ n: Int) {
        start += n
        if start == storage.count {
            storage.removeAll(keepingCapacity: true)
            start = 0
        }
    }

    /// Removes and returns the first `n` bytes (`n <= count`).
    mutating func take(_ n: Int) -> [UInt8] {
        let bytes = Array(slice(0, n))
        discard(n)
        return bytes
    }
}
