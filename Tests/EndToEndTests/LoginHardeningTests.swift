import Dispatch
import ElanusCore
import ElanusTestSupport
import Foundation
import Synchronization
import Testing

/// Password checks against the real binary with `--auth`: an unknown user costs as much as a
/// wrong password, a flood of wrong passwords from one address is refused with 1807 while
/// other addresses and remembered logins go on working, and a request with two Authorization
/// headers is refused. Every 127.x.y.z address is this machine, so 127.0.0.2 plays the flooder.
@Suite struct LoginHardeningTests {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }

    @Test func anUnknownUserCostsAsMuchAsAWrongPassword() throws {
        let dir = TemporaryDirectory()
        let server = try AuthTests.start(dir)
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let root = AuthTests.bearer("root:" + AuthTests.rootPassword)
        // alice never logs in; root does, so a wrong password for root meets a remembered login.
        #expect(try rest.call("users/create", #"{"userName":"alice","password":"alice-Secret-71"}"#, headers: root).code == 0)
        var times: [String: [Double]] = [:]
        for i in 0..<3 {
            // Each guess is new: a repeated one is answered from memory, for everyone alike.
            for (kind, token) in [("alice", "alice:wrong-\(i)"), ("root", "root:wrong-\(i)"), ("unknown", "nobody\(i):guess-\(i)")] {
                try times[kind, default: []].append(Self.seconds {
                    let reply = try rest.call("collections/list", "{}", headers: AuthTests.bearer(token))
                    #expect(reply.status == 401 && reply.code == 1800, "\(token): \(reply.body.serialized())")
                })
            }
        }
        let median = times.mapValues { $0.sorted()[1] }
        // Loose on purpose: before, an unknown user, and a wrong password for a user who had
        // logged in, answered about a hundred times faster than a wrong password for alice.
        #expect(median["unknown"]! * 10 > median["alice"]!, "\(median)")
        #expect(median["root"]! * 10 > median["alice"]!, "\(median)")
    }

    @Test func aFloodOfWrongPasswordsFromOneAddressIsRefusedWhileOthersLogIn() throws {
        let dir = TemporaryDirectory()
        let server = try AuthTests.start(dir, extraEnvironment: ["ELANUS_AUTH_MAX_FAILED_LOGINS_PER_ADDRESS": "5"])
        defer { server.terminate() }
        let root = AuthTests.bearer("root:" + AuthTests.rootPassword)
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("users/create", #"{"userName":"alice","password":"alice-Secret-71"}"#, headers: root).code == 0)

        // Four flooders on 127.0.0.2, each with new wrong passwords, while root (remembered from
        // the call above) keeps working from 127.0.0.1.
        let codes = Mutex<[Int64]>([])
        let messages = Mutex<[String]>([])
        let flood = DispatchGroup()
        let port = server.port
        for t in 0..<4 {
            DispatchQueue.global().async(group: flood) {
                let flooder = RESTClient(port: port, sourceHost: "127.0.0.2")
                for i in 0..<8 {
                    let reply = try? flooder.call("collections/list", "{}", headers: AuthTests.bearer("root:guess-\(t)-\(i)"))
                    codes.withLock { $0.append(reply?.code ?? -1) }
                    if let reply, reply.code == 1807 { messages.withLock { $0.append(reply.message) } }
                }
            }
        }
        var rootCodes: [Int64] = []
        while flood.wait(timeout: .now()) == .timedOut {
            rootCodes.append(try rest.call("collections/list", "{}", headers: root).code ?? -1)
        }
        let flooded = codes.withLock { $0 }
        #expect(flooded.allSatisfy { $0 == 1800 || $0 == 1807 }, "\(flooded)")
        #expect(flooded.filter { $0 == 1807 }.count >= 16, "\(flooded)")
        #expect(messages.withLock { $0 }.contains { $0.contains("too many failed logins from 127.0.0.2") }, "\(messages.withLock { $0 })")
        #expect(!rootCodes.isEmpty && rootCodes.allSatisfy { $0 == 0 }, "\(rootCodes)")

        // After the flood: 127.0.0.2's guesses are refused before any hash is computed, but a
        // remembered login works from there too; 127.0.0.1 still gets new logins checked.
        let flooder = RESTClient(port: server.port, sourceHost: "127.0.0.2")
        let refused = try flooder.call("collections/list", "{}", headers: AuthTests.bearer("root:one-more-guess"))
        #expect(refused.code == 1807 && refused.message.contains("too many failed logins from 127.0.0.2"), "\(refused.body.serialized())")
        #expect(try flooder.call("collections/list", "{}", headers: root).code == 0)
        #expect(try rest.call("collections/list", "{}", headers: AuthTests.bearer("alice:alice-Secret-71")).code == 0)
        let wrongHere = try rest.call("collections/list", "{}", headers: AuthTests.bearer("alice:not-hers"))
        #expect(wrongHere.status == 401 && wrongHere.code == 1800, "\(wrongHere.body.serialized())")
    }

    @Test func twoAuthorizationHeadersAreRefused() throws {
        let dir = TemporaryDirectory()
        let server = try AuthTests.start(dir)
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let root = AuthTests.bearer("root:" + AuthTests.rootPassword)
        #expect(try rest.call("collections/list", "{}", headers: root).code == 0)
        for headers in [root + root, root + AuthTests.basic("nobody", "x-123456"), [("authorization", "Bearer root:x")] + root] {
            let reply = try rest.call("collections/list", "{}", headers: headers)
            #expect(reply.status == 401 && reply.code == 1800, "\(headers): \(reply.body.serialized())")
            #expect(reply.message.contains("more than one Authorization header"), "\(reply.message)")
        }
        #expect(try server.client().request("GET", "/metrics", headers: root + root).status == 401)
    }
}
