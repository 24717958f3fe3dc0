import ElanusCore
import Foundation

/// A NumPy `.npy` file (format versions 1 to 3): its element type, shape and data. Milvus's
/// numpy import gives one file per field, named after the field, with one row per entity:
/// shape `(n,)` for scalars and `(n, dim)` (or `(n, dim / 8)` bytes) for vectors.
struct NumpyArray {
    enum Kind: Equatable {
        case bool
        case int(bytes: Int)
        case uint(bytes: Int)
        case float(bytes: Int)
        /// Fixed-width UTF-32 strings, `count` code points each.
        case unicode(count: Int)
    }

    let kind: Kind
    let shape: [Int]
    let itemSize: Int
    /// The element bytes, little-endian, C order.
    let data: ArraySlice<UInt8>

    var rows: Int { shape.first ?? 1 }
    /// Elements per row.
    var width: Int { shape.dropFirst().reduce(1, *) }

    struct Failure: Error { var reason: String }

    /// The widest fixed-width unicode dtype read (`<U1048576`).
    static let maxUnicodeWidth = 1 << 20

    init(_ bytes: [UInt8]) throws(Failure) {
        guard bytes.count >= 10, bytes.starts(with: [0x93] + Array("NUMPY".utf8)) else { throw Failure(reason: "not a .npy file (no \\x93NUMPY magic)") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw Failure(reason: "the .npy header is cut short") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw Failure(reason: "unknown .npy format version \(major)")
        }
        guard headerStart + headerLength <= bytes.count else { throw Failure(reason: "the .npy header is cut short") }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        let descr = try NumpyArray.field("descr", in: header)
        guard try NumpyArray.field("fortran_order", in: header) == "False" else { throw Failure(reason: "Fortran-ordered arrays are not supported; save the array in C order") }
        let shapeText = try NumpyArray.field("shape", in: header)
        var dimensions: [Int] = []
        for part in shapeText.trimmingPrefix("(").split(separator: ",") {
            let trimmed = part.filter { $0 != " " && $0 != ")" }
            if trimmed.isEmpty { continue }
            guard let n = Int(trimmed), n >= 0 else { throw Failure(reason: "bad shape \(shapeText)") }
            dimensions.append(n)
        }
        shape = dimensions
        let type = descr.filter { $0 != "'" && $0 != "\"" }
        guard let order = type.first, "<|=".contains(order) else { throw Failure(reason: "dtype \(type) is big-endian or not a plain type; only little-endian arrays are supported") }
        let code = type.dropFirst().first
        let size = Int(type.dropFirst(2)) ?? 0
        switch code {
        case "b" where size == 1: (kind, itemSize) = (.bool, 1)
        case "i" where [1, 2, 4, 8].contains(size): (kind, itemSize) = (.int(bytes: size), size)
        case "u" where [1, 2, 4].contains(size): (kind, itemSize) = (.uint(bytes: size), size)
        case "f" where [4, 8].contains(size): (kind, itemSize) = (.float(bytes: size), size)
        // The width comes from the file: bounded before `size * 4`, far past any VarChar's
        // 65,535 characters.
        case "U" where size > 0 && size <= NumpyArray.maxUnicodeWidth: (kind, itemSize) = (.unicode(count: size), size * 4)
        case "U" where size > NumpyArray.maxUnicodeWidth:
            throw Failure(reason: "dtype \(type) is wider than \(NumpyArray.maxUnicodeWidth) characters")
        default: throw Failure(reason: "dtype \(type) is not supported (use bool, int8 to int64, uint8 to uint32, float32, float64 or fixed-width unicode)")
        }
        let start = headerStart + headerLength
        // The shape comes from the file: multiply without trapping on overflow.
        var expected = itemSize
        for n in shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: n)
            guard !overflow else { throw Failure(reason: "shape \(shape) is too large") }
            expected = product
        }
        guard bytes.count - start == expected else {
            throw Failure(reason: "the data holds \(bytes.count - start) bytes but shape \(shape) of \(type) needs \(expected)")
        }
        data = bytes[start...]
    }

    /// The text of `key`'s value in the header's Python dict literal.
    private static func field(_ key: String, in header: String) throws(Failure) -> String {
        guard let range = header.range(of: "'\(key)':") else { throw Failure(reason: "the .npy header has no \(key)") }
        var rest = header[range.upperBound...].drop(while: { $0 == " " })
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { throw Failure(reason: "the .npy header's \(key) is not closed") }
            return String(rest[...close])
        }
        rest = rest.prefix(while: { $0 != "," && $0 != "}" })
        return rest.trimmingCharacters(in: .whitespaces)
    }

    /// Element `i` (flat index) as an integer, for the integer and bool kinds.
    func integer(_ i: Int) -> Int64 {
        let base = data.startIndex + i * itemSize
        var u: UInt64 = 0
        for b in 0..<itemSize { u |= UInt64(data[base + b]) << (8 * UInt64(b)) }
        switch kind {
        case .int(let n) where n < 8:
            let shift = UInt64(64 - 8 * n)
            return Int64(bitPattern: u << shift) >> Int64(shift)
        default: return Int64(bitPattern: u)
        }
    }

    /// Element `i` as a double, for the float kinds.
    func real(_ i: Int) -> Double {
        let base = data.startIndex + i * itemSize
        var u: UInt64 = 0
        for b in 0..<itemSize { u |= UInt64(data[base + b]) << (8 * UInt64(b)) }
        return itemSize == 4 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: u))) : Double(bitPattern: u)
    }

    /// Element `i` as a string, for the unicode kind (trailing NULs are padding).
    func string(_ i: Int) throws(Failure) -> String {
        guard case .unicode(let count) = kind else { return "" }
        var scalars = String.UnicodeScalarView()
        let base = data.startIndex + i * itemSize
        for c in 0..<count {
            let at = base + c * 4
            let value = UInt32(data[at]) | UInt32(data[at + 1]) << 8 | UInt32(data[at + 2]) << 16 | UInt32(data[at + 3]) << 24
            if value == 0 { break }
            guard let scalar = Unicode.Scalar(value) else { throw Failure(reason: "element \(i) holds an invalid code point") }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// Row `row`'s element `j` as JSON, whatever the kind (the general, validated path).
    func json(row: Int, element j: Int = 0) throws(Failure) -> JSON {
        let i = row * width + j
        switch kind {
        case .bool: return .bool(integer(i) != 0)
        case .int, .uint: return .int(integer(i))
        case .float: return .double(real(i))
        case .unicode: return .string(try string(i))
        }
    }
}

extension NumpyArray {
    /// The name Milvus's numpy reader gives this element type (`convertNumpyType`): uint8 is
    /// read as binary-vector bytes, and every string dtype as VarChar.
    var milvusElementType: String {
        switch kind {
        case .bool: "Bool"
        case .int(1): "Int8"
        case .int(2): "Int16"
        case .int(4): "Int32"
        case .int: "Int64"
        case .uint(1): "BinaryVector"
        case .uint(let bytes): "UInt\(bytes * 8)"
        case .float(4): "Float"
        case .float: "Double"
        case .unicode: "VarChar"
        }
    }

    /// Milvus's header check (`validateHeader`) for the types Milvus 2.6 added, with its
    /// messages: an Int8Vector takes an int8 array of shape (n, dim), a Geometry a string array
    /// of shape (n,) holding WKT; a Timestamptz matches no numpy element type in that check, so
    /// Milvus refuses every Timestamptz file, and so does Elanus. nil when the header fits (other
    /// types are checked row by row as inserts are).
    func headerFault(for field: FieldSchema) -> String? {
        let type = field.dataType.rawValue
        switch field.dataType {
        case .int8Vector:
            guard case .int(1) = kind else { return "expected element type '\(type)' for field '\(field.name)', got type '\(milvusElementType)'" }
            guard shape.count == 2 else { return "expected shape '2' for \(type) field '\(field.name)', got shape '\(shape.count)'" }
            let dim = field.dim ?? 0
            guard shape[1] == dim else { return "expected dim '\(dim)' for \(type) field '\(field.name)', got dim '\(shape[1])'" }
        case .geometry:
            guard case .unicode = kind else { return "expected element type '\(type)' for field '\(field.name)', got type '\(milvusElementType)'" }
            guard shape.count == 1 else { return "expected shape '1' for \(type) field '\(field.name)', got shape '\(shape.count)'" }
        case .timestamptz:
            return "expected element type '\(type)' for field '\(field.name)', got type '\(milvusElementType)'"
        default: break
        }
        return nil
    }
}
