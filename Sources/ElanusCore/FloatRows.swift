/// Float vectors that live outside Swift arrays: a read-only window on memory that `owner`
/// keeps alive (an index that holds the raw vectors it was built from), so a segment does not
/// keep a second copy of them. The memory never changes while the window exists.
public final class FloatRows: @unchecked Sendable, Equatable {
    public let owner: AnyObject
    public let buffer: UnsafeBufferPointer<Float>

    public init(owner: AnyObject, base: UnsafePointer<Float>, count: Int) {
        self.owner = owner
        buffer = UnsafeBufferPointer(start: base, count: count)
    }

    public static func == (a: FloatRows, b: FloatRows) -> Bool { a.buffer.elementsEqual(b.buffer) }
}
