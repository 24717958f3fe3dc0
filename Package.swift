// swift-tools-version: 6.0
//
// Elanus: a standalone vector database server in the Milvus mould.
// Module layout follows ../shared/DESIGN.md section 1: leaf C targets wrap one C library each,
// ElanusCore is pure vocabulary, and only ElanusServer knows HTTP routes and JSON envelopes.
import PackageDescription

let package = Package(
    name: "Elanus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "elanus", targets: ["elanus"]),
        .executable(name: "elanus-bench", targets: ["elanus-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // Runtime only: the generated code under Sources/ElanusProto/Generated is committed, and the
        // protoc plugin is never part of the build (Scripts/generate-proto).
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        // C leaves.
        .target(name: "CSystem"),
        .systemLibrary(name: "CRocksDB", pkgConfig: "rocksdb", providers: [.apt(["librocksdb-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CGEOS", pkgConfig: "geos", providers: [.apt(["libgeos-dev"])]),
        // ICU (word breaks, Latin-ASCII folding, regular expressions) behind plain C functions:
        // ICU's versioned symbol names cannot be imported from Swift directly.
        .target(name: "CICU", linkerSettings: [.linkedLibrary("icuuc"), .linkedLibrary("icui18n")]),
        .systemLibrary(name: "CStemmer", providers: [.apt(["libstemmer-dev"])]),
        .target(
            name: "CFaiss",
            cxxSettings: [.headerSearchPath("compat"), .unsafeFlags(["-O3"])],
            linkerSettings: [.linkedLibrary("faiss"), .linkedLibrary("openblas"), .linkedLibrary("gomp")]
        ),

        // Swift modules, bottom to top.
        // GEOS behind a small Swift API: geometry parsing, WKT output, spatial predicates.
        .target(name: "ElanusGeometry", dependencies: ["CGEOS"]),
        .target(name: "ElanusCore", dependencies: ["ElanusGeometry"]),
        .target(name: "ElanusStorage", dependencies: ["ElanusCore", "CRocksDB", "CSystem"]),
        .target(name: "ElanusQuery", dependencies: ["ElanusCore", "ElanusGeometry", "ElanusText"]),
        // Text analyzers (tokenizers and token filters) for full-text search: pure, no engine.
        .target(name: "ElanusText", dependencies: ["ElanusCore", "CICU", "CStemmer"]),
        // Milvus's protobuf messages and rpc table, for the gRPC front end; depends on nothing of ours.
        .target(name: "ElanusProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Sans-IO HTTP/2 + gRPC framing engine; ElanusHTTP drives it from a connection thread.
        .target(name: "ElanusHTTP2"),
        .target(name: "ElanusHTTP", dependencies: ["ElanusCore", "ElanusHTTP2", "CSystem", "COpenSSL", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "ElanusEngine",
            dependencies: ["ElanusCore", "ElanusGeometry", "ElanusStorage", "ElanusQuery", "ElanusText", "CFaiss", "CSystem", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "ElanusServer",
            dependencies: [
                "ElanusCore", "ElanusEngine", "ElanusGeometry", "ElanusQuery", "ElanusHTTP", "ElanusProto", "ElanusText", "CSystem", "COpenSSL",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "elanus",
            dependencies: [
                "ElanusServer", "ElanusEngine", "CSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "elanus-bench",
            dependencies: [
                "CFaiss", "CSystem", "ElanusCore", "ElanusEngine", "ElanusQuery", "ElanusText", "ElanusHTTP", "ElanusHTTP2", "ElanusProto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),

        // Tests: one target per module, shared fixtures in ElanusTestSupport, and end-to-end tests
        // that start the real `elanus` binary.
        .target(name: "ElanusTestSupport", dependencies: ["ElanusHTTP", "ElanusCore", "CSystem"], path: "Tests/ElanusTestSupport"),
        .testTarget(name: "CFaissTests", dependencies: ["CFaiss"]),
        .testTarget(name: "ElanusCoreTests", dependencies: ["ElanusCore"]),
        .testTarget(name: "ElanusGeometryTests", dependencies: ["ElanusGeometry"]),
        .testTarget(name: "ElanusTextTests", dependencies: ["ElanusText", "ElanusCore"]),
        .testTarget(name: "ElanusProtoTests", dependencies: ["ElanusProto"], exclude: ["make-pymilvus-fixtures.py"]),
        .testTarget(name: "ElanusQueryTests", dependencies: ["ElanusQuery", "ElanusText", "ElanusTestSupport"]),
        .testTarget(name: "ElanusStorageTests", dependencies: ["ElanusStorage", "ElanusTestSupport"]),
        .testTarget(name: "ElanusHTTP2Tests", dependencies: ["ElanusHTTP2"]),
        .testTarget(name: "ElanusHTTPTests", dependencies: ["ElanusHTTP", "ElanusTestSupport"]),
        .testTarget(name: "ElanusEngineTests", dependencies: ["ElanusEngine", "ElanusQuery", "ElanusStorage", "ElanusTestSupport"]),
        .testTarget(name: "ElanusServerTests", dependencies: ["ElanusServer", "ElanusTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["ElanusTestSupport", "ElanusCore", "ElanusHTTP", "ElanusServer"]),
    ],
    cxxLanguageStandard: .cxx17
)
