import ElanusProto
import SwiftProtobuf
import Testing

/// The generated rpc table against two independent sources: the count of `rpc` lines in
/// milvus.proto v2.6.22, and the service descriptor compiled into pymilvus (PymilvusFixtures.rpcs).
@Suite struct MilvusServiceMethodTests {
    /// One line of PymilvusFixtures.rpcs.
    struct PymilvusRPC {
        var service, name, request, response, streaming: String
        var path: String { "/\(service)/\(name)" }
    }

    static let pymilvusRPCs: [PymilvusRPC] = PymilvusFixtures.rpcs.split(separator: "\n").map { line in
        let words = line.split(separator: " ").map(String.init)
        return PymilvusRPC(service: words[0], name: words[1], request: words[2], response: words[3], streaming: words[4])
    }

    @Test func everyRPCOfMilvusProtoIsInTheTable() {
        // `sed -n '/^service MilvusService/,/^}/p' proto/milvus.proto | grep -c '^ *rpc '` at v2.6.22.
        #expect(MilvusServiceMethod.allCases.count == 117)
        #expect(MilvusServiceMethod.byPath.count == 117)
        #expect(ProxyServiceMethod.allCases.count == 1)
    }

    @Test func tableMatchesTheServicesPymilvusWasBuiltWith() throws {
        let milvus = Self.pymilvusRPCs.filter { $0.service == MilvusServiceMethod.serviceName }
        let proxy = Self.pymilvusRPCs.filter { $0.service == ProxyServiceMethod.serviceName }
        #expect(milvus.count + proxy.count == Self.pymilvusRPCs.count)
        #expect(Set(milvus.map(\.path)) == Set(MilvusServiceMethod.byPath.keys))
        #expect(Set(proxy.map(\.path)) == Set(ProxyServiceMethod.byPath.keys))

        for rpc in milvus {
            let method = try #require(MilvusServiceMethod(path: rpc.path))
            #expect(method.rawValue == rpc.name)
            #expect(method.requestType.protoMessageName == rpc.request, "\(rpc.name)")
            #expect(method.responseType.protoMessageName == rpc.response, "\(rpc.name)")
            #expect("\(method.streaming)" == rpc.streaming, "\(rpc.name)")
        }
        for rpc in proxy {
            let method = try #require(ProxyServiceMethod(path: rpc.path))
            #expect(method.requestType.protoMessageName == rpc.request)
            #expect(method.responseType.protoMessageName == rpc.response)
        }
    }

    @Test func pathsAndTypesOfWellKnownRPCs() {
        let create = MilvusServiceMethod.createCollection
        #expect(create.path == "/milvus.proto.milvus.MilvusService/CreateCollection")
        #expect(ObjectIdentifier(create.requestType) == ObjectIdentifier(Milvus_Proto_Milvus_CreateCollectionRequest.self))
        #expect(ObjectIdentifier(create.responseType) == ObjectIdentifier(Milvus_Proto_Common_Status.self))
        #expect(create.streaming == .unary)

        #expect(MilvusServiceMethod(path: "/milvus.proto.milvus.MilvusService/Import") == .import)
        #expect(ObjectIdentifier(MilvusServiceMethod.search.responseType) == ObjectIdentifier(Milvus_Proto_Milvus_SearchResults.self))
        #expect(ObjectIdentifier(MilvusServiceMethod.listIndexedSegment.requestType) == ObjectIdentifier(Milvus_Proto_Feder_ListIndexedSegmentRequest.self))
        #expect(MilvusServiceMethod.dumpMessages.streaming == .serverStreaming)
        #expect(MilvusServiceMethod.createReplicateStream.streaming == .bidirectional)
    }

    @Test(arguments: [
        "", "/", "CreateCollection", "/milvus.proto.milvus.MilvusService/createCollection",
        "/milvus.proto.milvus.MilvusService/CreateCollection/", "/milvus.proto.milvus.ProxyService/CreateCollection",
        "/milvus.proto.milvus.MilvusService/NoSuchRPC",
    ])
    func unknownPathsFindNoRPC(path: String) {
        #expect(MilvusServiceMethod(path: path) == nil)
    }

    /// What a gRPC front end does with the table: bytes in, the request message out, by path alone.
    @Test func decodesARequestThroughTheTable() throws {
        var request = Milvus_Proto_Milvus_HasCollectionRequest()
        request.collectionName = "demo"
        let bytes: [UInt8] = try request.serializedBytes()

        let method = try #require(MilvusServiceMethod(path: "/milvus.proto.milvus.MilvusService/HasCollection"))
        let decoded = try method.requestType.init(serializedBytes: bytes)
        let typed = try #require(decoded as? Milvus_Proto_Milvus_HasCollectionRequest)
        #expect(typed.collectionName == "demo")
    }
}
