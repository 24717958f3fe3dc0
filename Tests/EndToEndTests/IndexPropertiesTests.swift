import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// indexes/alter_properties and indexes/drop_properties over HTTP against the real binary, on a
/// SCANN index: Milvus's configurable keys only, a released collection only, the properties shown
/// by describe and kept across a restart, together with the index files.
@Suite struct IndexPropertiesTests {
    @Test func indexPropertiesAreAlteredOnReleasedCollectionsAndSurviveARestart() throws {
        let dir = TemporaryDirectory()
        var server = try IndexTests.start(dir)
        defer { _ = server.terminate() }
        var rest = RESTClient(port: server.port)
        let create = #"""
            {"collectionName":"px","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":8}}]}}
            """#
        #expect(try rest.call("collections/create", create).code == 0)
        let rows = (0..<1000).map { i in #"{"id":\#(i),"v":[\#(i % 37),\#(i % 11),\#(i % 7),\#(i),\#(i % 5),\#(i % 3),\#(i % 13),\#(i % 17)]}"# }
        #expect(try rest.call("entities/insert", #"{"collectionName":"px","data":[\#(rows.joined(separator: ","))]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"px"}"#).code == 0)

        let diskann = try rest.call("indexes/create", #"{"collectionName":"px","indexParams":[{"fieldName":"v","indexType":"DISKANN","metricType":"L2"}]}"#)
        #expect(diskann.code == 1100 && diskann.message == "index type DISKANN is not supported by Elanus yet: invalid parameter", "\(diskann.body.serialized())")
        let scann = #"{"collectionName":"px","indexParams":[{"fieldName":"v","indexName":"vi","indexType":"SCANN","metricType":"L2","params":{"nlist":8}}]}"#
        #expect(try rest.call("indexes/create", scann).code == 0)
        let built = try IndexTests.waitForIndex(rest, collection: "px", "vi")
        #expect(built?["indexState"] == "Finished" && built?["indexedRows"] == 1000 && built?["mmap.enabled"] == "", "\(built?.serialized() ?? "")")

        // SCANN's search params: reorder_k (>= 1) and nprobe.
        #expect(try rest.call("collections/load", #"{"collectionName":"px"}"#).code == 0)
        let search = try rest.call("entities/search", #"{"collectionName":"px","data":[[19,5,3,500,0,2,6,7]],"limit":3,"searchParams":{"params":{"nprobe":8,"reorder_k":50}}}"#)
        guard case .array(let hits)? = search.data else { Issue.record("\(search.body.serialized())"); return }
        #expect(hits.first?["id"] == 500, "\(search.body.serialized())")
        let badReorder = try rest.call("entities/search", #"{"collectionName":"px","data":[[1,1,1,1,1,1,1,1]],"limit":3,"searchParams":{"params":{"reorder_k":0}}}"#)
        #expect(badReorder.code == 1100 && badReorder.message.contains("reorder_k"), "\(badReorder.body.serialized())")
        let badRefine = try rest.call("entities/search", #"{"collectionName":"px","data":[[1,1,1,1,1,1,1,1]],"limit":3,"searchParams":{"params":{"refine_k":0.5}}}"#)
        #expect(badRefine.code == 1100 && badRefine.message.contains("refine_k"), "\(badRefine.body.serialized())")

        // Loaded: refused with Milvus's 104, both ways.
        let loaded = "can't alter index on loaded collection, please release the collection first: collection already loaded[collection=px]"
        let alterLoaded = try rest.call("indexes/alter_properties", #"{"collectionName":"px","indexName":"vi","properties":{"mmap.enabled":true}}"#)
        #expect(alterLoaded.code == 104 && alterLoaded.message == loaded, "\(alterLoaded.body.serialized())")
        let dropLoaded = try rest.call("indexes/drop_properties", #"{"collectionName":"px","indexName":"vi","propertyKeys":["mmap.enabled"]}"#)
        #expect(dropLoaded.code == 104 && dropLoaded.message == loaded, "\(dropLoaded.body.serialized())")
        #expect(try rest.call("collections/release", #"{"collectionName":"px"}"#).code == 0)

        // Only Milvus's configurable keys, with valid values; an unknown index is 700.
        let unknown = try rest.call("indexes/alter_properties", #"{"collectionName":"px","indexName":"vi","properties":{"nlist":16}}"#)
        #expect(unknown.code == 1100 && unknown.message == "nlist is not a configable index proptery: invalid parameter", "\(unknown.body.serialized())")
        let dropUnknown = try rest.call("indexes/drop_properties", #"{"collectionName":"px","indexName":"vi","propertyKeys":["index_type"]}"#)
        #expect(dropUnknown.code == 1100 && dropUnknown.message == "index_type is not a configable index proptery: invalid parameter")
        let badValue = try rest.call("indexes/alter_properties", #"{"collectionName":"px","indexName":"vi","properties":{"mmap.enabled":"maybe"}}"#)
        #expect(badValue.code == 1100 && badValue.message == "invalid mmap.enabled value: maybe, expected: true, false: invalid parameter", "\(badValue.body.serialized())")
        let noIndex = try rest.call("indexes/alter_properties", #"{"collectionName":"px","indexName":"nope","properties":{"mmap.enabled":true}}"#)
        #expect(noIndex.code == 700 && noIndex.message == "index not found[indexName=nope]", "\(noIndex.body.serialized())")

        #expect(try rest.call("indexes/alter_properties", #"{"collectionName":"px","indexName":"vi","properties":{"mmap.enabled":true,"warmup":"sync"}}"#).code == 0)
        func describe() throws -> JSON? {
            guard case .array(let items)? = try rest.call("indexes/describe", #"{"collectionName":"px","indexName":"vi"}"#).data else { return nil }
            return items.first
        }
        func params(_ item: JSON?) -> [String: String] {
            guard case .array(let list)? = item?["indexParams"] else { return [:] }
            var out: [String: String] = [:]
            for kv in list { if case .string(let k)? = kv["key"], case .string(let v)? = kv["value"] { out[k] = v } }
            return out
        }
        var item = try describe()
        #expect(item?["mmap.enabled"] == "true" && item?["warmup"] == "sync" && item?["indexoffsetcache.enabled"] == "", "\(item?.serialized() ?? "")")
        #expect(params(item) == ["index_type": "SCANN", "metric_type": "L2", "nlist": "8", "mmap.enabled": "true", "warmup": "sync"])
        // Creating the same index again is still accepted: properties do not make it another.
        #expect(try rest.call("indexes/create", scann).code == 0)

        // Restart: the properties are in the catalog, the index files are loaded, not rebuilt.
        _ = server.terminate()
        server = try IndexTests.start(dir)
        rest = RESTClient(port: server.port)
        item = try describe()
        #expect(item?["mmap.enabled"] == "true" && item?["warmup"] == "sync" && item?["indexState"] == "Finished", "\(item?.serialized() ?? "")")
        #expect(try rest.call("indexes/drop_properties", #"{"collectionName":"px","indexName":"vi","propertyKeys":["mmap.enabled"]}"#).code == 0)
        item = try describe()
        #expect(item?["mmap.enabled"] == "" && params(item)["mmap.enabled"] == nil && item?["warmup"] == "sync")
        #expect(try rest.call("collections/load", #"{"collectionName":"px"}"#).code == 0)
        // After a restart the segments load in the background.
        let deadline = Date().addingTimeInterval(60)
        while try rest.call("collections/get_load_state", #"{"collectionName":"px"}"#).data?["loadState"] != "LoadStateLoaded", Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let again = try rest.call("entities/search", #"{"collectionName":"px","data":[[19,5,3,500,0,2,6,7]],"limit":3}"#)
        guard case .array(let after)? = again.data else { Issue.record("\(again.body.serialized())"); return }
        #expect(after.first?["id"] == 500, "\(again.body.serialized())")
    }
}
