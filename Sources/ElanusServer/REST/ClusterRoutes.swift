import ElanusCore
import ElanusEngine
import Foundation

/// `resource_groups/*`, `segments/describe` and `quotacenter/describe`: what Milvus's cluster
/// administration routes report, for the one node of a standalone Elanus server.
///
/// Resource groups: every Elanus server is one query node in Milvus's default resource group,
/// so that group is listed and described truthfully; creating, changing or moving replicas
/// between groups answers an error that says why, instead of pretending to.
enum ClusterRoutes {
    static let defaultResourceGroup = "__default_resource_group"
    /// Milvus's `queryCoord.defaultResourceGroupCapacity`-style node limit of the default group.
    static let defaultGroupNodeLimit: Int64 = 1_000_000

    static func register(into routes: inout [String: RouteHandler]) {
        routes["resource_groups/list"] = { context in
            _ = try context.body("EmptyReq")
            return Envelope.success(.array([.string(defaultResourceGroup)]))
        }
        routes["resource_groups/describe"] = { context in
            let name = try context.body("ResourceGroupReq").string("name", required: true)!
            guard name == defaultResourceGroup else { throw notFound(name) }
            let loaded = context.engine.catalog.allCollections().filter(\.loaded)
            let replicas = JSON.object(loaded.map { (key: $0.name, value: JSON.int(1)) })
            let group: JSON = [
                "name": .string(defaultResourceGroup),
                "capacity": .int(defaultGroupNodeLimit),
                "num_available_node": 1,
                "num_loaded_replica": replicas,
                "num_outgoing_node": .object([]),
                "num_incoming_node": .object([]),
                "config": [
                    "requests": ["node_num": .int(defaultGroupNodeLimit)],
                    "limits": ["node_num": .int(defaultGroupNodeLimit)],
                ],
                "nodes": .array([["node_id": 1, "address": .string(context.request.headers["Host"] ?? ""), "hostname": .string(ProcessInfo.processInfo.hostName)]]),
            ]
            return Envelope.json(200, ["code": 0, "data": ["resource_group": group]])
        }
        routes["resource_groups/create"] = { context in
            let name = try context.body("ResourceGroupReq").string("name", required: true)!
            if name == defaultResourceGroup { return Envelope.success([:]) }
            throw oneNode("create resource group \(name)")
        }
        routes["resource_groups/drop"] = { context in
            let name = try context.body("ResourceGroupReq").string("name", required: true)!
            if name == defaultResourceGroup {
                throw ElanusError.invalidParameter("delete default rg is not permitted")
            }
            // Dropping a group that does not exist succeeds in Milvus; none but the default exists.
            return Envelope.success([:])
        }
        routes["resource_groups/alter"] = { context in
            let body = try context.body("UpdateResourceGroupReq")
            guard try body.map("resource_groups") != nil else { throw body.missing("resource_groups") }
            throw oneNode("change resource groups")
        }
        routes["resource_groups/transfer_replica"] = { context in
            let body = try context.body("TransferReplicaReq")
            // Types first, then required keys, as Go's decoder and validator run.
            for key in ["sourceRgName", "targetRgName", "collectionName"] { _ = try body.string(key) }
            _ = try body.int("replicaNum")
            for key in ["sourceRgName", "targetRgName", "collectionName"] { _ = try body.string(key, required: true) }
            _ = try body.int("replicaNum", required: true)
            throw oneNode("transfer replicas between resource groups")
        }
        routes["segments/describe"] = { context in
            let body = try context.body("GetSegmentsInfoReq")
            // Collection ids are unique across databases; the database is checked for its type only.
            _ = try context.database(body)
            let collectionID = try body.int("collectionID") ?? 0
            var segmentIDs: [Int64] = []
            for value in try body.array("segmentIDs") ?? [] {
                guard case .int(let id) = value else {
                    throw ElanusError(.invalidJSON, "invalid parameter format, error: segmentIDs must be an array of int64, got \(value.serialized())")
                }
                segmentIDs.append(id)
            }
            let segments = try context.engine.describeSegments(collectionID: collectionID, segmentIDs: segmentIDs)
            let infos = segments.map { s -> JSON in
                [
                    "segmentID": .int(s.segmentID), "collectionID": .int(s.collectionID), "partitionID": .int(s.partitionID),
                    "vChannel": .string(s.channel), "numRows": .int(Int64(s.rows)), "state": .int(Int64(s.state.milvusCode)),
                    // Every Elanus segment is an L1 segment (deletes live in delta files, not L0 segments).
                    "level": 2, "isSorted": false,
                    // One file holds all of a segment's columns: there are no per-field binlogs to list.
                    "insertLogs": .array([]), "deltaLogs": .array([]), "statsLogs": .array([]),
                ]
            }
            return Envelope.success(["segmentInfos": .array(infos)])
        }
        routes["quotacenter/describe"] = { context in
            _ = try context.body("GetQuotaMetricsReq")
            return Envelope.success(.string(quotaMetrics(context.engine).serialized()))
        }
    }

    /// Milvus's QuotaCenterMetrics as JSON text (its REST answer is that text): the data
    /// coordinator's binlog sizes are the collections' segment files on disk; the node sections
    /// name the one node and the collections it serves.
    static func quotaMetrics(_ engine: Engine) -> JSON {
        let sizes = engine.collectionDiskBytes()
        let collections = engine.catalog.allCollections()
        let loaded = collections.filter(\.loaded).map { JSON.int($0.id) }
        let effect: JSON = ["NodeID": 1, "CollectionIDs": .array(loaded)]
        return [
            "QueryNodeMetrics": ["1": ["Effect": effect]],
            "DataNodeMetrics": ["1": ["Effect": ["NodeID": 1, "CollectionIDs": .array(collections.map { .int($0.id) })]]],
            "ProxyMetrics": .object([]),
            "DataCoordMetrics": [
                "TotalBinlogSize": .int(Int64(sizes.values.reduce(0, +))),
                "CollectionBinlogSize": .object(sizes.sorted { $0.key < $1.key }.map { (key: String($0.key), value: .int(Int64($0.value))) }),
            ],
        ]
    }

    static func notFound(_ name: String) -> ElanusError {
        ElanusError(.resourceGroupNotFound, "resource group not found[rg=\(name)]")
    }

    static func oneNode(_ what: String) -> ElanusError {
        ElanusError(
            .unimplemented,
            "cannot \(what): a standalone Elanus server is one query node in the default resource group \(defaultResourceGroup)")
    }
}
