import ElanusCore

/// What `segments/describe` reports about a segment: Milvus's segment info, as far as a
/// one-file-per-segment store has the same things.
public struct SegmentDescription: Sendable {
    public enum State: Sendable {
        case growing, sealed, flushed

        /// commonpb.SegmentState's number, which Milvus's REST handler writes.
        public var milvusCode: Int {
            switch self {
            case .growing: 2
            case .sealed: 3
            case .flushed: 4
            }
        }
    }

    public var segmentID: Int64
    public var collectionID: Int64
    public var partitionID: Int64
    public var channel: String
    /// Every row written to the segment, deleted ones included (Milvus's `numRows`).
    public var rows: Int
    public var state: State
    /// Fields with a built index.
    public var indexedFields: [Int64]
}

extension Engine {
    /// The segments of collection `id`: those named in `segmentIDs` (each must exist, as in
    /// Milvus), or all of them when it is empty, in id order.
    public func describeSegments(collectionID: Int64, segmentIDs: [Int64]) throws(ElanusError) -> [SegmentDescription] {
        guard let info = catalog.collection(id: collectionID) else {
            throw ElanusError(.collectionNotFound, "collection not found[collection=\(collectionID)]")
        }
        let data = try data(for: info)
        let all: [SegmentDescription] = data.read { s in
            s.segments.values.sorted { $0.id < $1.id }.map { segment in
                let state: SegmentDescription.State =
                    switch segment.state {
                    case .growing: .growing
                    case .sealed: .sealed
                    case .flushed: .flushed
                    }
                return SegmentDescription(
                    segmentID: segment.id, collectionID: info.id, partitionID: segment.partitionID, channel: data.channel,
                    rows: segment.rowCount, state: state, indexedFields: segment.indexedFields.sorted())
            }
        }
        guard !segmentIDs.isEmpty else { return all }
        let byID = Dictionary(all.map { ($0.segmentID, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [SegmentDescription] = []
        for id in segmentIDs {
            guard let segment = byID[id] else { throw ElanusError(.segmentNotFound, "segment not found[segment=\(id)]") }
            out.append(segment)
        }
        return out
    }

    /// Bytes of segment files on disk per collection id (Milvus's binlog sizes, for the quota
    /// center's report).
    public func collectionDiskBytes() -> [Int64: Int] {
        var out: [Int64: Int] = [:]
        for info in catalog.allCollections() {
            out[info.id] = Engine.directoryBytes(objects.path("\(info.id)"))
        }
        return out
    }
}
