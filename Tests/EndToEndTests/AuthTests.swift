import ElanusCore
import ElanusServer
import ElanusTestSupport
import Foundation
import Testing

/// Authentication against the real binary: with `--auth`, every API route (implemented or
/// planned) answers HTTP 401 / 1800 without valid credentials and works with them; users are
/// created, change passwords and are dropped over `users/*`; and no password used appears
/// anywhere in the data directory or the server's log.
@Suite struct AuthTests {
    static let rootPassword = "Root-Start-9f3"

    static func start(
        _ dir: TemporaryDirectory, arguments: [String] = ["--auth"], rootPassword: String? = AuthTests.rootPassword, extraEnvironment: [String: String] = [:]
    ) throws -> ElanusProcess {
        var environment = extraEnvironment
        if let rootPassword { environment["ELANUS_AUTH_ROOT_PASSWORD"] = rootPassword }
        let server = ElanusProcess(dataDirectory: dir.file("data"), arguments: arguments, environment: environment)
        try server.start()
        return server
    }

    static func basic(_ user: String, _ password: String) -> [(String, String)] {
        [("Authorization", "Basic " + Base64.encode(Array("\(user):\(password)".utf8)))]
    }

    static func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer " + token)] }

    /// Every route the server knows, from the server's own router.
    static func allRoutes() throws -> [String] {
        try RESTHandler(slot: EngineSlot()).implementedRoutes + RESTHandler.plannedRoutes.sorted()
    }

    @Test func everyRouteNeedsValidCredentials() throws {
        let dir = TemporaryDirectory()
        let server = try Self.start(dir)
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let rejected: [[(String, String)]] = [
            [], Self.bearer("root:wrong-password"), Self.basic("root", "wrong-password"), Self.bearer("root"),
            Self.bearer("nobody:" + Self.rootPassword), [("Authorization", "Digest abc")], Self.bearer(""),
        ]
        let routes = try Self.allRoutes()
        #expect(routes.count > 70)
        for route in routes {
            for headers in rejected {
                let reply = try rest.call(route, "{}", headers: headers)
                #expect(reply.status == 401 && reply.code == 1800, "\(route) with \(headers): \(reply.status) \(reply.body.serialized())")
            }
            let allowed = try rest.call(route, "{}", headers: Self.bearer("root:" + Self.rootPassword))
            #expect(allowed.status == 200 && allowed.code != 1800, "\(route): \(allowed.body.serialized())")
        }
        // Health stays open for probes.
        #expect(try server.client().request("GET", "/health", headers: [], body: []).status == 200)
    }

    @Test func usersAreCreatedUsedChangedAndDroppedWithoutPasswordsOnDisk() throws {
        let dir = TemporaryDirectory()
        let server = try Self.start(dir)
        let rest = RESTClient(port: server.port)
        let root = Self.bearer("root:" + Self.rootPassword)
        let first = "alice-Secret-71", second = "alice-Other-83"

        #expect(try rest.call("users/create", #"{"userName":"alice","password":"\#(first)"}"#, headers: root).code == 0)
        let duplicate = try rest.call("users/create", #"{"userName":"alice","password":"\#(first)"}"#, headers: root)
        #expect(duplicate.code == 65535 && duplicate.message.contains("user already exists"))
        let short = try rest.call("users/create", #"{"userName":"bob","password":"abc"}"#, headers: root)
        #expect(short.code == 1100 && short.message.contains("password"), "\(short.body.serialized())")
        let badName = try rest.call("users/create", #"{"userName":"1bob","password":"abcdefg"}"#, headers: root)
        #expect(badName.code == 1100, "\(badName.body.serialized())")
        #expect(try rest.call("users/list", "{}", headers: root).data == ["alice", "root"])

        // alice authenticates both ways; twice, so the second goes through the verified cache.
        for headers in [Self.basic("alice", first), Self.bearer("alice:" + first), Self.bearer("alice:" + first)] {
            #expect(try rest.call("collections/list", "{}", headers: headers).code == 0)
        }
        let wrongOld = try rest.call("users/update_password", #"{"userName":"alice","password":"not-hers-1","newPassword":"\#(second)"}"#, headers: root)
        #expect(wrongOld.code == 1100 && wrongOld.message.contains("old password"))
        let nobody = try rest.call("users/update_password", #"{"userName":"nobody","password":"\#(first)","newPassword":"\#(second)"}"#, headers: root)
        #expect(nobody.code == 65535 && nobody.message.contains("user not found"), "\(nobody.body.serialized())")
        #expect(try rest.call("users/update_password", #"{"userName":"alice","password":"\#(first)","newPassword":"\#(second)"}"#, headers: root).code == 0)
        #expect(try rest.call("collections/list", "{}", headers: Self.bearer("alice:" + first)).status == 401)
        #expect(try rest.call("collections/list", "{}", headers: Self.bearer("alice:" + second)).code == 0)

        // A restart keeps users and passwords (the hashes are in the meta store).
        #expect(server.terminate() == 0)
        try server.start()
        #expect(try rest.call("collections/list", "{}", headers: Self.bearer("alice:" + second)).code == 0)
        #expect(try rest.call("users/drop", #"{"userName":"root"}"#, headers: root).code == 1100)
        #expect(try rest.call("users/drop", #"{"userName":"alice"}"#, headers: root).code == 0)
        #expect(try rest.call("collections/list", "{}", headers: Self.bearer("alice:" + second)).status == 401)
        #expect(server.terminate() == 0)

        // No password, in any encoding a request carried it, is in the data directory or the log.
        let secrets = [Self.rootPassword, first, second, "not-hers-1"]
        let needles = secrets.flatMap { [Array($0.utf8), Array(Base64.encode(Array("alice:\($0)".utf8)).utf8)] }
        var files = [server.logPath]
        if let walker = FileManager.default.enumerator(atPath: dir.file("data")) {
            for case let path as String in walker { files.append(dir.file("data/" + path)) }
        }
        var scanned = 0
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: file).map(Array.init) else { continue }
            scanned += 1
            for needle in needles { #expect(!Self.contains(bytes, needle), "\(file) contains a password") }
        }
        #expect(scanned > 5)
    }

    @Test func apiKeysAuthenticateTheirUserUntilDropped() throws {
        let dir = TemporaryDirectory()
        let server = try Self.start(dir)
        let rest = RESTClient(port: server.port)
        let root = Self.bearer("root:" + Self.rootPassword)
        let dave = Self.bearer("dave:dave-Secret-5")
        #expect(try rest.call("users/create", #"{"userName":"dave","password":"dave-Secret-5"}"#, headers: root).code == 0)

        // dave makes his own key; the whole key is shown only in this answer.
        let created = try rest.call("users/create_api_key", #"{"userName":"dave"}"#, headers: dave)
        guard case .string(let key)? = created.data?["apiKey"], case .string(let id)? = created.data?["keyId"] else {
            Issue.record("no key: \(created.body.serialized())")
            return
        }
        #expect(key.hasPrefix("elanus_" + id + "_") && key.count > 70)
        #expect(try rest.call("users/describe", #"{"userName":"dave"}"#, headers: Self.bearer(key)).code == 0)
        let listed = try rest.call("users/list_api_keys", #"{"userName":"dave"}"#, headers: Self.bearer(key))
        guard case .array(let keys)? = listed.data, keys.count == 1 else { Issue.record("\(listed.body.serialized())"); return }
        #expect(keys[0]["keyId"] == .string(id) && keys[0]["userName"] == "dave" && keys[0]["createdAt"] != nil)
        #expect(!listed.body.serialized().contains(String(key.suffix(64))))
        // The key acts as dave: his privileges, not more.
        #expect(try rest.call("users/create", #"{"userName":"eve","password":"eve-Secret-5"}"#, headers: Self.bearer(key)).status == 403)
        // Wrong secrets, unknown ids and dave's key for someone else's keys are refused.
        let wrong = String(key.dropLast()) + (key.hasSuffix("0") ? "1" : "0")
        for token in [wrong, "elanus_" + id, "elanus_0000000000000000_" + String(key.suffix(64)), "nonsense"] {
            #expect(try rest.call("collections/list", "{}", headers: Self.bearer(token)).status == 401, "\(token)")
        }
        #expect(try rest.call("users/create_api_key", #"{"userName":"root"}"#, headers: Self.bearer(key)).status == 403)
        let rootKey = try rest.call("users/create_api_key", #"{"userName":"root"}"#, headers: root)
        guard case .string(let rootKeyID)? = rootKey.data?["keyId"] else { Issue.record("no root key"); return }
        let notHis = try rest.call("users/drop_api_key", #"{"userName":"dave","keyId":"\#(rootKeyID)"}"#, headers: dave)
        #expect(notHis.code == 1100 && notHis.message.contains("no API key"), "\(notHis.body.serialized())")

        // Keys survive a restart; dropping the key, or the user, ends it.
        #expect(server.terminate() == 0)
        try server.start()
        #expect(try rest.call("collections/list", "{}", headers: Self.bearer(key)).code == 0)
        #expect(try rest.call("users/drop_api_key", #"{"userName":"dave","keyId":"\#(id)"}"#, headers: dave).code == 0)
        #expect(try rest.call("collections/list", "{}", headers: Self.bearer(key)).status == 401)
        let second = try rest.call("users/create_api_key", #"{"userName":"dave"}"#, headers: root)
        guard case .string(let other)? = second.data?["apiKey"] else { Issue.record("no second key"); return }
        #expect(try rest.call("collections/list", "{}", headers: Self.bearer(other)).code == 0)
        #expect(try rest.call("users/drop", #"{"userName":"dave"}"#, headers: root).code == 0)
        #expect(try rest.call("collections/list", "{}", headers: Self.bearer(other)).status == 401)
        #expect(server.terminate() == 0)

        // Neither secret is anywhere on disk or in the log.
        var files = [server.logPath]
        if let walker = FileManager.default.enumerator(atPath: dir.file("data")) {
            for case let path as String in walker { files.append(dir.file("data/" + path)) }
        }
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: file).map(Array.init) else { continue }
            for secret in [key, other].map({ Array($0.suffix(64).utf8) }) { #expect(!Self.contains(bytes, secret), "\(file) contains a key") }
        }
    }

    @Test func theDefaultRootPasswordIsWarnedAbout() throws {
        let dir = TemporaryDirectory()
        let server = try Self.start(dir, rootPassword: nil)
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/list", "{}", headers: Self.bearer("root:Milvus")).code == 0)
        #expect(server.terminate() == 0)
        #expect(server.log().contains("root still has the default password"))
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
