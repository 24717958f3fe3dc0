import ElanusCore
import Foundation

/// Response bodies shaped the way Milvus shapes them (Go encoding/json field names).
enum Render {
    static func keyValues(_ pairs: [KeyValue]) -> JSON {
        .array(pairs.map { kv in
            kv.value.isEmpty ? ["key": .string(kv.key)] : ["key": .string(kv.key), "value": .string(kv.value)]
        })
    }

    /// `{"Data":{"LongData":5}}` and friends: the proto form Milvus's tests assert. A Timestamptz
    /// default is its RFC 3339 text in the collection's zone (`StringData`), as Milvus's
    /// describe rewrites it.
    static func defaultValue(_ value: ScalarValue, type: DataType, zone: TimeZone) -> JSON {
        let inner: (String, JSON) =
            switch value {
            case .bool(let b): ("BoolData", .bool(b))
            case .int(let i) where type == .timestamptz: ("StringData", .string(Timestamptz.format(i, zone: zone)))
            case .int(let i): (type == .int64 ? "LongData" : "IntData", .int(i))
            case .float(let f): ("FloatData", .double(Double(f)))
            case .double(let d): ("DoubleData", .double(d))
            case .string(let s): ("StringData", .string(s))
            }
        return ["Data": .object([(key: inner.0, value: inner.1)])]
    }

    static func field(_ f: FieldSchema, zone: TimeZone) -> JSON {
        var members: [(key: String, value: JSON)] = [
            ("name", .string(f.name)), ("id", .int(f.fieldID)), ("type", .string(f.dataType.rawValue)),
            ("primaryKey", .bool(f.isPrimary)), ("partitionKey", .bool(f.isPartitionKey)),
            ("clusteringKey", .bool(f.isClusteringKey)), ("autoId", .bool(f.autoID)),
            ("description", .string(f.description)), ("nullable", .bool(f.nullable)),
        ]
        if !f.typeParams.isEmpty { members.append(("params", keyValues(f.typeParams))) }
        if let element = f.elementType { members.append(("elementType", .string(element.rawValue))) }
        if let value = f.defaultValue { members.append(("defaultValue", defaultValue(value, type: f.dataType, zone: zone))) }
        return .object(members)
    }

    /// Loaded partitions whose segments are still being read back report Loading.
    static func loadState(_ info: CollectionInfo, progress: Int?) -> LoadState {
        info.loaded ? (progress == nil ? .loaded : .loading) : .notLoad
    }

    /// A schema function as Milvus's describe prints it (the type as its proto number).
    static func function(_ function: FunctionSchema, id: Int64) -> JSON {
        .object([
            ("name", .string(function.name)),
            ("description", .string(function.description)),
            ("type", .int(Int64(function.type.protoValue))),
            ("id", .int(id)),
            ("inputFieldNames", .array(function.inputFieldNames.map { .string($0) })),
            ("outputFieldNames", .array(function.outputFieldNames.map { .string($0) })),
            ("params", .array(function.params.map { ["key": .string($0.key), "value": .string($0.value)] })),
        ])
    }

    /// `collections/describe`. `indexes` lists every index of the collection, scalar ones too:
    /// Milvus's handler names the first vector field, but its DescribeIndex task forwards only
    /// the (empty) index name, which asks for all of them.
    static func describe(_ info: CollectionInfo, aliases: [String], loadProgress: Int?) -> JSON {
        let indexes = info.indexes.map { spec -> JSON in
            ["indexName": .string(spec.indexName), "fieldName": .string(spec.fieldName), "metricType": .string(spec.metricType)]
        }
        return .object([
            ("collectionName", .string(info.name)),
            ("collectionID", .int(info.id)),
            ("description", .string(info.schema.description)),
            ("autoId", .bool(info.schema.primaryField?.autoID ?? false)),
            ("fields", .array(info.schema.fields.map { field($0, zone: info.describedZone) })),
            ("functions", .array(info.schema.functions.enumerated().map { function($1, id: Int64(100 + $0)) })),
            ("aliases", .array(aliases.map { .string($0) })),
            ("indexes", .array(indexes)),
            ("load", .string(loadState(info, progress: loadProgress).rawValue)),
            ("shardsNum", .int(Int64(info.shardsNum))),
            ("partitionsNum", .int(Int64(info.partitions.count))),
            ("consistencyLevel", .string(info.consistencyLevel.rawValue)),
            ("enableDynamicField", .bool(info.schema.enableDynamicField)),
            ("properties", keyValues(info.properties)),
        ])
    }
}
