/// A little-endian binary writer for records and files (WAL records, later segment files).
/// Fixed-width numbers, length-prefixed strings and bulk arrays copied as raw memory.
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func write(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            write(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// Raw bytes, with no length prefix.
    public mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    /// A count, then the elements' memory (the platform is little-endian: x86-64 and arm64).
    public mutating func writeArray<T: BitwiseCopyable>(_ values: [T]) {
        values.withUnsafeBufferPointer { writeBuffer($0) }
    }

    /// The same layout as `writeArray`.
    public mutating func writeBuffer<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>) {
        write(UInt32(values.count))
        bytes.append(contentsOf: UnsafeRawBufferPointer(values))
    }
}

/// Reads what ByteWriter wrote, failing (never trapping) on truncated or malformed input.
public struct ByteReader {
    let bytes: [UInt8]
    public private(set) var offset = 0
    let what: String

    /// `what` names the input in errors ("WAL record c1@42").
    public init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.what = what
    }

    public var atEnd: Bool { offset == bytes.count }

    public func corrupt(_ detail: String) -> ElanusError { .unexpected("\(what) is corrupt: \(detail) at byte \(offset)") }

    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(ElanusError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { throw corrupt("truncated") }
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { dst in
            bytes.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<offset + size])) }
        }
        offset += size
        return T(littleEndian: value)
    }

    /// A count or size stored as a u64: past Int's range it is corruption, never a trap.
    public mutating func readCount() throws(ElanusError) -> Int {
        let value = try read(UInt64.self)
        guard let count = Int(exactly: value) else { throw corrupt("count \(value) is out of range") }
        return count
    }

    /// The next `count` raw bytes.
    public mutating func readBytes(_ count: Int) throws(ElanusError) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw corrupt("truncated") }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    public mutating func readBool() throws(ElanusError) -> Bool { try read(UInt8.self) != 0 }

    public mutating func skipString() throws(ElanusError) {
        let count = Int(try read(UInt32.self))
        guard offset + count <= bytes.count else { throw corrupt("string runs past the end") }
        offset += count
    }

    public mutating func readString() throws(ElanusError) -> String {
        let count = Int(try read(UInt32.self))
        guard offset + count <= bytes.count else { throw corrupt("string runs past the end") }
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }

    /// The element count of the array at the current offset, when the whole array is present.
    public func peekArrayCount<T: BitwiseCopyable>(_: T.Type) throws(ElanusError) -> Int? {
        var copy = self
        let count = Int(try copy.read(UInt32.self))
        return copy.offset + count * MemoryLayout<T>.stride <= bytes.count ? count : nil
    }

    /// Steps over an array without reading it.
    public mutating func skipArray<T: BitwiseCopyable>(_: T.Type) throws(ElanusError) {
        let count = Int(try read(UInt32.self))
        let size = count * MemoryLayout<T>.stride
        guard offset + size <= bytes.count else { throw corrupt("array runs past the end") }
        offset += size
    }

    public mutating func readArray<T: BitwiseCopyable>(_: T.Type = T.self) throws(ElanusError) -> [T] {
        let count = Int(try read(UInt32.self))
        let size = count * MemoryLayout<T>.stride
        guard size >= 0, offset + size <= bytes.count else { throw corrupt("array runs past the end") }
        let out = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { src in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<offset + size]))
            }
            initialized = count
        }
        offset += size
        return out
    }
}

/// The binary form of entity batches, shared by the WAL and (later) segment files.
/// Layout per column: fieldID, width, type tag, validity, then the values.
extension EntityBatch {
    public func encode(into w: inout ByteWriter) {
        w.write(UInt32(rowCount))
        w.write(UInt32(columns.count))
        for column in columns { column.encode(into: &w) }
        w.write(dynamic != nil)
        if let dynamic { for object in dynamic { w.write(object.serialized()) } }
    }

    /// `substitute`, given a float vector column's field id and float count, may return the
    /// values to use instead (borrowed from an index that holds them); the stored floats are
    /// then skipped rather than copied.
    /// With `only`, the other columns and the dynamic field are stepped over, not decoded.
    public static func decode(
        from r: inout ByteReader, substitute: ((_ fieldID: Int64, _ floats: Int) -> ColumnValues?)? = nil, only: Set<Int64>? = nil
    ) throws(ElanusError) -> EntityBatch {
        let rowCount = Int(try r.read(UInt32.self))
        let columnCount = Int(try r.read(UInt32.self))
        var columns: [Column] = []
        for _ in 0..<columnCount {
            guard let column = try Column.decode(from: &r, substitute: substitute, only: only) else { continue }
            guard column.rowCount == rowCount, (column.valid?.count ?? rowCount) == rowCount else {
                throw r.corrupt("column \(column.fieldID) has the wrong number of rows")
            }
            columns.append(column)
        }
        var dynamic: [JSON]? = nil
        let hasDynamic = try r.readBool()
        if hasDynamic && only != nil {
            for _ in 0..<rowCount { try r.skipString() }
        } else if hasDynamic {
            var objects: [JSON] = []
            objects.reserveCapacity(rowCount)
            for _ in 0..<rowCount { objects.append(try parseStored(try r.readString(), &r)) }
            dynamic = objects
        }
        return EntityBatch(rowCount: rowCount, columns: columns, dynamic: dynamic)
    }

    static func parseStored(_ text: String, _ r: inout ByteReader) throws(ElanusError) -> JSON {
        do { return try JSON.parse(text) } catch { throw r.corrupt("stored JSON does not parse: \(error.description)") }
    }
}

extension Column {
    enum Tag: UInt8 {
        case bool = 1, int8, int16, int32, int64, float, double, string, json, floatVector, binaryVector, halfVector, sparseVector, int8Vector
    }

    func encode(into w: inout ByteWriter) {
        w.write(fieldID)
        w.write(UInt32(width))
        w.write(valid != nil)
        if let valid { w.writeArray(valid.map { $0 ? UInt8(1) : 0 }) }
        switch values {
        case .bool(let a):
            w.write(Tag.bool.rawValue)
            w.writeArray(a.map { $0 ? UInt8(1) : 0 })
        case .int8(let a): w.write(Tag.int8.rawValue); w.writeArray(a)
        case .int16(let a): w.write(Tag.int16.rawValue); w.writeArray(a)
        case .int32(let a): w.write(Tag.int32.rawValue); w.writeArray(a)
        case .int64(let a): w.write(Tag.int64.rawValue); w.writeArray(a)
        case .float(let a): w.write(Tag.float.rawValue); w.writeArray(a)
        case .double(let a): w.write(Tag.double.rawValue); w.writeArray(a)
        case .string(let a):
            w.write(Tag.string.rawValue)
            w.write(UInt32(a.count))
            for s in a { w.write(s) }
        case .json(let a):
            w.write(Tag.json.rawValue)
            w.write(UInt32(a.count))
            for j in a { w.write(j.serialized()) }
        case .floatVector(let a): w.write(Tag.floatVector.rawValue); w.writeArray(a)
        case .borrowedFloatVector(let a): w.write(Tag.floatVector.rawValue); w.writeBuffer(a.buffer)
        case .binaryVector(let a): w.write(Tag.binaryVector.rawValue); w.writeArray(a)
        case .halfVector(let a): w.write(Tag.halfVector.rawValue); w.writeArray(a)
        case .int8Vector(let a): w.write(Tag.int8Vector.rawValue); w.writeArray(a)
        case .sparseVector(let a):
            w.write(Tag.sparseVector.rawValue)
            w.write(UInt32(a.count))
            for v in a {
                w.writeArray(v.indices)
                w.writeArray(v.values)
            }
        }
    }

    /// nil when `only` leaves the column out (its bytes are stepped over).
    static func decode(from r: inout ByteReader, substitute: ((Int64, Int) -> ColumnValues?)?, only: Set<Int64>?) throws(ElanusError) -> Column? {
        let fieldID = try r.read(Int64.self)
        let width = Int(try r.read(UInt32.self))
        if let only, !only.contains(fieldID) {
            if try r.readBool() { try r.skipArray(UInt8.self) }
            guard let tag = Tag(rawValue: try r.read(UInt8.self)) else { throw r.corrupt("unknown column type") }
            try skipValues(tag, &r)
            return nil
        }
        let valid: [Bool]? = try r.readBool() ? try r.readArray(UInt8.self).map { $0 != 0 } : nil
        guard let tag = Tag(rawValue: try r.read(UInt8.self)) else { throw r.corrupt("unknown column type") }
        let values: ColumnValues
        switch tag {
        case .bool: values = .bool(try r.readArray(UInt8.self).map { $0 != 0 })
        case .int8: values = .int8(try r.readArray())
        case .int16: values = .int16(try r.readArray())
        case .int32: values = .int32(try r.readArray())
        case .int64: values = .int64(try r.readArray())
        case .float: values = .float(try r.readArray())
        case .double: values = .double(try r.readArray())
        case .string:
            let count = Int(try r.read(UInt32.self))
            var a: [String] = []
            for _ in 0..<count { a.append(try r.readString()) }
            values = .string(a)
        case .json:
            let count = Int(try r.read(UInt32.self))
            var a: [JSON] = []
            for _ in 0..<count { a.append(try EntityBatch.parseStored(try r.readString(), &r)) }
            values = .json(a)
        case .floatVector:
            if let substitute, let floats = try r.peekArrayCount(Float.self), let borrowed = substitute(fieldID, floats) {
                try r.skipArray(Float.self)
                values = borrowed
            } else {
                values = .floatVector(try r.readArray())
            }
        case .binaryVector: values = .binaryVector(try r.readArray())
        case .halfVector: values = .halfVector(try r.readArray())
        case .int8Vector: values = .int8Vector(try r.readArray())
        case .sparseVector:
            let count = Int(try r.read(UInt32.self))
            var a: [SparseVector] = []
            for _ in 0..<count {
                let indices: [UInt32] = try r.readArray()
                let values: [Float] = try r.readArray()
                guard indices.count == values.count else { throw r.corrupt("sparse vector with unequal indices and values") }
                a.append(SparseVector(indices: indices, values: values))
            }
            values = .sparseVector(a)
        }
        guard width >= 1 else { throw r.corrupt("column width 0") }
        return Column(fieldID: fieldID, width: width, values: values, valid: valid)
    }

    private static func skipValues(_ tag: Tag, _ r: inout ByteReader) throws(ElanusError) {
        switch tag {
        case .bool, .int8, .binaryVector, .int8Vector: try r.skipArray(UInt8.self)
        case .int16, .halfVector: try r.skipArray(UInt16.self)
        case .int32, .float, .floatVector: try r.skipArray(UInt32.self)
        case .int64, .double: try r.skipArray(UInt64.self)
        case .string, .json:
            let count = Int(try r.read(UInt32.self))
            for _ in 0..<count { try r.skipString() }
        case .sparseVector:
            let count = Int(try r.read(UInt32.self))
            for _ in 0..<count {
                try r.skipArray(UInt32.self)
                try r.skipArray(Float.self)
            }
        }
    }
}
