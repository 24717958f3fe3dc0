import ElanusCore
import ElanusTestSupport
import Testing

@Suite struct PartitionTests {
    @Test func partitionRoutesAndErrorsOverHTTP() throws {
        let dir = TemporaryDirectory()
        var server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        var rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"c","dimension":4}"#).code == 0)
        #expect(try rest.call("partitions/list", #"{"collectionName":"c"}"#).data == ["_default"])
        #expect(try rest.call("partitions/create", #"{"collectionName":"c","partitionName":"p2025"}"#).code == 0)
        #expect(try rest.call("partitions/has", #"{"collectionName":"c","partitionName":"p2025"}"#).data == ["has": true])
        #expect(try rest.call("partitions/has", #"{"collectionName":"c","partitionName":"nope"}"#).data == ["has": false])
        #expect(try rest.call("partitions/get_stats", #"{"collectionName":"c","partitionName":"p2025"}"#).data == ["rowCount": 0])

        // The quick-setup collection is loaded, so the new partition is too and cannot be dropped.
        let loadedDrop = try rest.call("partitions/drop", #"{"collectionName":"c","partitionName":"p2025"}"#)
        #expect(loadedDrop.code == 65535)
        #expect(loadedDrop.message.contains("release it first"))
        #expect(try rest.call("partitions/release", #"{"collectionName":"c","partitionNames":["p2025"]}"#).code == 0)
        #expect(try rest.call("collections/get_load_state", #"{"collectionName":"c","partitionNames":["p2025"]}"#).data == ["loadState": "LoadStateNotLoad"])
        #expect(try rest.call("collections/get_load_state", #"{"collectionName":"c","partitionNames":["_default"]}"#).data?["loadState"] == "LoadStateLoaded")
        #expect(try rest.call("partitions/drop", #"{"collectionName":"c","partitionName":"p2025"}"#).code == 0)
        #expect(try rest.call("partitions/create", #"{"collectionName":"c","partitionName":"kept"}"#).code == 0)

        let errors: [(String, String, Int64, String)] = [
            ("partitions/list", "{}", 1802, "CollectionName"),
            ("partitions/create", #"{"collectionName":"c"}"#, 1802, "PartitionName"),
            ("partitions/load", #"{"collectionName":"c"}"#, 1802, "PartitionNames"),
            ("partitions/list", #"{"collectionName":"missing"}"#, 100, "can't find collection"),
            ("partitions/get_stats", #"{"collectionName":"c","partitionName":"nope"}"#, 200, "partition not found[partition=nope]"),
            ("partitions/load", #"{"collectionName":"c","partitionNames":["nope"]}"#, 200, "partition not found"),
            ("collections/get_load_state", #"{"collectionName":"c","partitionNames":["nope"]}"#, 200, "partition not found"),
            ("partitions/create", #"{"collectionName":"c","partitionName":"1bad"}"#, 1100, "Invalid partition name: 1bad"),
            ("partitions/drop", #"{"collectionName":"c","partitionName":"_default"}"#, 65535, "default partition cannot be deleted"),
        ]
        for (route, body, code, fragment) in errors {
            let reply = try rest.call(route, body)
            #expect(reply.code == code, "\(route) \(body): \(reply.body.serialized())")
            #expect(reply.message.contains(fragment), "\(route): \(reply.message)")
        }

        server.kill()
        server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        rest = RESTClient(port: server.port)
        #expect(try rest.call("partitions/list", #"{"collectionName":"c"}"#).data == ["_default", "kept"])
    }
}
