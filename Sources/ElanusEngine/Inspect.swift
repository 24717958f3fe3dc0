import ElanusCore
import ElanusStorage
import Foundation

/// `elanus inspect-wal` and `elanus inspect-segment`: what a write-ahead log or a segment file
/// holds, printed for debugging with no server running (the WAL's RocksDB lock must be free).
public enum Inspect {
    /// Every collection's channel in `<dataDirectory>/wal` from its checkpoint on: one line per
    /// record (position, time, deletes, inserted rows per partition), at most `limit` per
    /// collection, with up to `keys` primary keys shown per record.
    public static func wal(dataDirectory: String, collection: String?, limit: Int, keys: Int, print: (String) -> Void) throws(ElanusError) {
        let meta = try RocksMetaStore(path: dataDirectory + "/meta")
        defer { meta.close() }
        let broker = try RocksLogBroker(path: dataDirectory + "/wal")
        defer { broker.close() }
        var found = false
        for (_, value) in try meta.scan(prefix: Keys.collectionPrefix) {
            let info: CollectionInfo = try Keys.decode(value)
            if let collection, collection != info.name && collection != String(info.id) { continue }
            found = true
            let channel = "collection-\(info.id)"
            let checkpoint = try meta.get(DataKeys.state(info.id)).map { (bytes: [UInt8]) throws(ElanusError) -> UInt64 in
                let state: DataState = try Keys.decode(bytes)
                return state.checkpoint
            } ?? 0
            let last = try broker.lastPosition(channel: channel)
            print("collection \(info.name) (id \(info.id)), channel \(channel): checkpoint \(checkpoint), last position \(last), \(last > checkpoint ? last - checkpoint : 0) records to replay")
            var position = checkpoint + 1
            var shown = 0
            while shown < limit {
                let page = try broker.read(channel: channel, from: position, limit: min(64, limit - shown))
                if page.isEmpty { break }
                for entry in page {
                    let record = try WriteRecord.decode(entry.payload, what: "WAL record \(channel)@\(entry.position)")
                    print("  " + describe(record, position: entry.position, primaryFieldID: info.schema.fields.first(where: \.isPrimary)?.fieldID ?? 0, keys: keys))
                    position = entry.position + 1
                    shown += 1
                }
            }
            if shown == limit && position <= last { print("  ... \(last - position + 1) more") }
        }
        if let collection, !found { throw ElanusError(.collectionNotFound, "no collection named \(collection) in \(dataDirectory)") }
    }

    static func describe(_ record: WriteRecord, position: UInt64, primaryFieldID: Int64, keys: Int) -> String {
        var parts = ["@\(position)", "ts=\(time(record.timestamp))"]
        if !record.deletes.isEmpty {
            parts.append("delete \(record.deletes.count)\(record.deletePartition.map { " in partition \($0)" } ?? "") \(sample(record.deletes, keys))")
        }
        for insert in record.inserts {
            parts.append("insert \(insert.batch.rowCount) into partition \(insert.partitionID) \(sample(insert.batch.primaryKeys(primaryFieldID), keys))")
        }
        return parts.joined(separator: " ")
    }

    /// A segment file (`*.seg`): its header, chunks and columns; or a delta file (`*.del`): the
    /// dead rows it records per segment.
    public static func segment(file path: String, keys: Int, print: (String) -> Void) throws(ElanusError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .invalidParameter("cannot read \(path)") }
        let bytes = [UInt8](data)
        if path.hasSuffix(".del") {
            let deltas = try SegmentFile.decodeDeltas(bytes, name: path)
            print("delta file \(path): \(deltas.count) segments")
            for (segment, chunks) in deltas.sorted(by: { $0.key < $1.key }) {
                print("  segment \(segment): \(chunks.reduce(0) { $0 + $1.reduce(0) { $0 + $1.nonzeroBitCount } }) dead rows in \(chunks.count) chunks")
            }
            return
        }
        let segment = try SegmentFile.read(path: path, createdAt: 0)
        print("segment \(segment.id) of partition \(segment.partitionID): \(segment.rowCount) rows in \(segment.chunks.count) chunks, \(bytes.count) bytes, checksums verified")
        for (c, chunk) in segment.chunks.enumerated() {
            let columns = chunk.batch.columns.map { column in "field \(column.fieldID) \(kind(column.values))\(column.width > 1 ? "x\(column.width)" : "")\(column.valid != nil ? " nullable" : "")" }
            print("  chunk \(c): \(chunk.batch.rowCount) rows, ts=\(chunk.timestamp == 0 ? "0 (imported; the meta store holds its time)" : time(chunk.timestamp)), WAL position \(chunk.position)")
            print("    columns: \(columns.joined(separator: ", "))\(chunk.batch.dynamic != nil ? ", dynamic" : "")")
            if keys > 0, let first = chunk.batch.columns.first {
                print("    first keys of field \(first.fieldID): \(sample((0..<min(keys, chunk.batch.rowCount)).map { first.value(at: $0) }, keys))")
            }
        }
    }

    static func sample<T>(_ values: [T], _ count: Int) -> String {
        guard count > 0, !values.isEmpty else { return "" }
        let shown = values.prefix(count).map { "\($0)" }.joined(separator: ", ")
        return "[\(shown)\(values.count > count ? ", ..." : "")]"
    }

    static func time(_ timestamp: UInt64) -> String {
        let date = Date(timeIntervalSince1970: Double(HybridTimestamp.physicalMs(timestamp)) / 1000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date) + "+\(HybridTimestamp.logical(timestamp))"
    }

    static func kind(_ values: ColumnValues) -> String {
        switch values {
        case .bool: "bool"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .float: "float"
        case .double: "double"
        case .string: "string"
        case .json: "json"
        case .floatVector, .borrowedFloatVector: "floatVector"
        case .binaryVector: "binaryVector"
        case .halfVector: "halfVector"
        case .int8Vector: "int8Vector"
        case .sparseVector: "sparseVector"
        }
    }
}
