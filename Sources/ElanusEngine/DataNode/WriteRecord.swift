import ElanusCore

/// One WAL record of a collection channel: everything one insert, upsert or delete does, at one
/// timestamp. Replaying the records in position order rebuilds exactly the state the writer
/// applied, which is why the writer applies a record only after it is durable.
///
/// An upsert is one record with both parts: its deletes mask older versions of the keys
/// (strictly older timestamps only), and its inserts, at the same timestamp, stay visible.
struct WriteRecord: Equatable, Sendable {
    static let version: UInt8 = 1

    var timestamp: UInt64
    /// Keys deleted at `timestamp`.
    var deletes: [PrimaryKey] = []
    /// Restricts the deletes to one partition (a delete with `partitionName`); nil means all.
    var deletePartition: Int64?
    /// Rows inserted at `timestamp`, grouped by partition.
    var inserts: [(partitionID: Int64, batch: EntityBatch)] = []

    static func == (a: WriteRecord, b: WriteRecord) -> Bool {
        a.timestamp == b.timestamp && a.deletes == b.deletes && a.deletePartition == b.deletePartition
            && a.inserts.count == b.inserts.count
            && zip(a.inserts, b.inserts).allSatisfy { $0.partitionID == $1.partitionID && $0.batch == $1.batch }
    }

    var insertedRows: Int { inserts.reduce(0) { $0 + $1.batch.rowCount } }

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 64 + inserts.reduce(0) { $0 + $1.batch.rowCount * 64 })
        w.write(WriteRecord.version)
        w.write(timestamp)
        w.write(deletePartition != nil)
        w.write(deletePartition ?? 0)
        w.write(UInt32(deletes.count))
        for key in deletes {
            switch key {
            case .int(let i):
                w.write(UInt8(0))
                w.write(i)
            case .string(let s):
                w.write(UInt8(1))
                w.write(s)
            }
        }
        w.write(UInt32(inserts.count))
        for insert in inserts {
            w.write(insert.partitionID)
            insert.batch.encode(into: &w)
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], what: String) throws(ElanusError) -> WriteRecord {
        var r = ByteReader(bytes, what: what)
        let version = try r.read(UInt8.self)
        guard version == WriteRecord.version else { throw .unexpected("\(what) has unknown record version \(version)") }
        var record = WriteRecord(timestamp: try r.read(UInt64.self))
        let scoped = try r.readBool()
        let partition = try r.read(Int64.self)
        record.deletePartition = scoped ? partition : nil
        let deleteCount = Int(try r.read(UInt32.self))
        for _ in 0..<deleteCount {
            switch try r.read(UInt8.self) {
            case 0: record.deletes.append(.int(try r.read(Int64.self)))
            case 1: record.deletes.append(.string(try r.readString()))
            default: throw .unexpected("\(what) has a primary key of unknown kind")
            }
        }
        let insertCount = Int(try r.read(UInt32.self))
        for _ in 0..<insertCount {
            let partitionID = try r.read(Int64.self)
            record.inserts.append((partitionID, try EntityBatch.decode(from: &r)))
        }
        guard r.atEnd else { throw .unexpected("\(what) has trailing bytes") }
        return record
    }
}
