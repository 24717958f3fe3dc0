import ElanusCore

/// Decides which partition each row goes to: the named partition, `_default`, or, with a
/// partition key, `_default_<hash(key) mod partitionsNum>` (Milvus's partition-key mode).
enum PartitionRouter {
    static func route(_ batch: EntityBatch, info: CollectionInfo, partitionName: String?) throws(ElanusError) -> [(partitionID: Int64, batch: EntityBatch)] {
        guard let keyField = info.schema.partitionKeyField else {
            let name = partitionName.flatMap { $0.isEmpty ? nil : $0 } ?? Catalog.defaultPartition
            guard let partition = info.partition(named: name) else { throw Catalog.partitionNotFound(name) }
            return [(partition.id, batch)]
        }
        if let partitionName, !partitionName.isEmpty {
            throw .invalidParameter("not support manually specifying the partition names if partition key mode is used")
        }
        guard let column = batch.column(keyField.fieldID) else { throw .unexpected("the partition key column is missing") }
        let partitions = info.partitions.sorted { $0.id < $1.id }
        var rowsByPartition: [[Int]] = Array(repeating: [], count: partitions.count)
        for row in 0..<batch.rowCount {
            rowsByPartition[Int(hash(column.value(at: row)) % UInt64(partitions.count))].append(row)
        }
        return zip(partitions, rowsByPartition).compactMap { partition, rows in
            rows.isEmpty ? nil : (partition.id, rows.count == batch.rowCount ? batch : batch.rows(rows))
        }
    }

    /// The partition of a key value: FNV-1a over the key's bytes (little-endian for Int64,
    /// UTF-8 for VarChar). It must never change: rows already stored were placed with it.
    static func hash(_ value: FieldValue) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        switch value {
        case .int(let i): withUnsafeBytes(of: i.littleEndian) { for b in $0 { mix(b) } }
        case .string(let s): for b in s.utf8 { mix(b) }
        default: break
        }
        return h
    }
}
