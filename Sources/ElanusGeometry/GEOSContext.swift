import CGEOS

/// Why a geometry was refused: GEOS's own message (a WKT or WKB parse error).
public struct GeometryError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// One GEOS context handle (the thread-safe `_r` API) with its WKT reader and writer.
///
/// Not thread-safe: GEOS allows a handle on one thread at a time, so each user makes its own
/// (an insert's conversion, a filter's evaluation of one chunk); creating one is cheap next to
/// the geometry work done with it. Geometries made through a context are freed through it,
/// before it is.
public final class GEOSContext {
    let handle: GEOSContextHandle_t
    private let reader: OpaquePointer
    private let wkbReader: OpaquePointer
    private let writer: OpaquePointer
    /// The last error GEOS reported through the message handler.
    fileprivate var lastError = ""

    public init() {
        handle = GEOS_init_r()
        reader = GEOSWKTReader_create_r(handle)
        wkbReader = GEOSWKBReader_create_r(handle)
        writer = GEOSWKTWriter_create_r(handle)
        // Trimmed coordinates (`POINT (1 2)`, not `POINT (1.0000000000000000 2.0000000000000000)`),
        // two dimensions, as Milvus writes geometries back.
        GEOSWKTWriter_setTrim_r(handle, writer, 1)
        GEOSWKTWriter_setOutputDimension_r(handle, writer, 2)
        let box = Unmanaged.passUnretained(self).toOpaque()
        GEOSContext_setErrorMessageHandler_r(handle, { message, userdata in
            guard let message, let userdata else { return }
            Unmanaged<GEOSContext>.fromOpaque(userdata).takeUnretainedValue().lastError = String(cString: message)
        }, box)
    }

    deinit {
        GEOSWKTReader_destroy_r(handle, reader)
        GEOSWKBReader_destroy_r(handle, wkbReader)
        GEOSWKTWriter_destroy_r(handle, writer)
        GEOS_finish_r(handle)
    }

    /// A geometry from WKT; the error names GEOS's reason.
    public func read(wkt text: String) throws(GeometryError) -> Geometry {
        lastError = ""
        // GEOS reads a C string: text with a NUL inside would be cut short, so it is refused.
        guard !text.utf8.contains(0) else { throw GeometryError("the WKT text contains a NUL character") }
        guard GeometryNesting.wktWithinLimit(text) else {
            throw GeometryError("the geometry nests more than \(GeometryNesting.maxDepth) levels deep")
        }
        guard let pointer = GEOSWKTReader_read_r(handle, reader, text) else {
            throw GeometryError(lastError.isEmpty ? "not a WKT geometry" : lastError)
        }
        return Geometry(pointer, self)
    }

    /// A geometry from WKB bytes.
    public func read(wkb bytes: [UInt8]) throws(GeometryError) -> Geometry {
        lastError = ""
        guard GeometryNesting.wkbWithinLimit(bytes) else {
            throw GeometryError("the geometry nests more than \(GeometryNesting.maxDepth) levels deep")
        }
        guard !bytes.isEmpty, let pointer = bytes.withUnsafeBufferPointer({ GEOSWKBReader_read_r(handle, wkbReader, $0.baseAddress, $0.count) }) else {
            throw GeometryError(lastError.isEmpty ? "not a WKB geometry" : lastError)
        }
        return Geometry(pointer, self)
    }

    /// The geometry as WKT (`POINT (13.4 52.5)`).
    public func wkt(_ geometry: Geometry) -> String {
        guard let text = GEOSWKTWriter_write_r(handle, writer, geometry.pointer) else { return "" }
        defer { GEOSFree_r(handle, text) }
        return String(cString: text)
    }
}

/// A geometry owned by its context.
public final class Geometry {
    let pointer: OpaquePointer
    let context: GEOSContext

    init(_ pointer: OpaquePointer, _ context: GEOSContext) {
        self.pointer = pointer
        self.context = context
    }

    deinit { GEOSGeom_destroy_r(context.handle, pointer) }

    public var isEmpty: Bool { GEOSisEmpty_r(context.handle, pointer) == 1 }

    /// The bounding box (minX, minY, maxX, maxY); nil for an empty geometry.
    public var envelope: (minX: Double, minY: Double, maxX: Double, maxY: Double)? {
        guard !isEmpty else { return nil }
        let h = context.handle
        var a = 0.0, b = 0.0, c = 0.0, d = 0.0
        guard GEOSGeom_getXMin_r(h, pointer, &a) == 1, GEOSGeom_getYMin_r(h, pointer, &b) == 1,
              GEOSGeom_getXMax_r(h, pointer, &c) == 1, GEOSGeom_getYMax_r(h, pointer, &d) == 1
        else { return nil }
        return (a, b, c, d)
    }

    /// (x, y) of a point; nil for other types and empty points.
    public var point: (x: Double, y: Double)? {
        guard GEOSGeomTypeId_r(context.handle, pointer) == Int32(GEOS_POINT.rawValue), !isEmpty else { return nil }
        var x = 0.0, y = 0.0
        guard GEOSGeomGetX_r(context.handle, pointer, &x) == 1, GEOSGeomGetY_r(context.handle, pointer, &y) == 1 else { return nil }
        return (x, y)
    }

    /// The planar distance to `other` in the units of their coordinates (0 when they meet); nil
    /// when GEOS fails on them.
    public func distance(to other: Geometry) -> Double? {
        var d = 0.0
        guard GEOSDistance_r(context.handle, pointer, other.pointer, &d) == 1 else { return nil }
        return d
    }
}
