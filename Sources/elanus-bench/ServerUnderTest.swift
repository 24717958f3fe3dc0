import ElanusHTTP
import Foundation
import Glibc

/// The `elanus` binary built beside this benchmark, started on a temporary data directory and a
/// free port, measured from /proc, and removed afterwards.
final class ServerUnderTest {
    let port: Int
    let dataDirectory: String
    private(set) var process = Process()
    let binary: String
    let keepData: Bool

    init(keepData: Bool = false) throws {
        self.keepData = keepData
        binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("elanus").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError("no elanus binary at \(binary); build it with `swift build -c release`")
        }
        dataDirectory = NSTemporaryDirectory() + "elanus-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: dataDirectory)
        port = ServerUnderTest.freePort()
        try launch()
    }

    private func launch() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--data-dir", dataDirectory, "--port", String(port), "--log-level", "warning"]
        try process.run()
        let client = HTTPClient(port: port, timeoutMs: 2000)
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline && process.isRunning {
            if let response = try? client.request("GET", "/health"), response.status == 200 { return }
            client.close()
            Thread.sleep(forTimeInterval: 0.02)
        }
        stop()
        throw BenchError("the server did not become healthy")
    }

    /// Stops the server with SIGTERM and starts it again on the same data; returns the seconds
    /// from the new process's start to a healthy /health.
    func restart() throws -> Double {
        process.terminate()
        process.waitUntilExit()
        let start = Date()
        try launch()
        return Date().timeIntervalSince(start)
    }

    /// Peak resident memory of the server so far (VmHWM), in bytes.
    var peakRSS: Int { statusField("VmHWM") }
    var currentRSS: Int { statusField("VmRSS") }

    /// Starts a new peak: VmHWM becomes the current RSS (Linux's clear_refs, value 5).
    func resetPeakRSS() {
        try? "5".write(toFile: "/proc/\(process.processIdentifier)/clear_refs", atomically: false, encoding: .utf8)
    }

    private func statusField(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return 0
    }

    /// Bytes under the data directory.
    var diskBytes: Int {
        let enumerator = FileManager.default.enumerator(atPath: dataDirectory)
        var total = 0
        while let path = enumerator?.nextObject() as? String {
            total += (try? FileManager.default.attributesOfItem(atPath: dataDirectory + "/" + path)[.size] as? Int) ?? 0
        }
        return total
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        if keepData {
            print("data directory kept: \(dataDirectory)")
        } else {
            try? FileManager.default.removeItem(atPath: dataDirectory)
        }
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
