import Foundation
import Synchronization

/// A seeded generator (SplitMix64) with Box-Muller normals.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func gaussian() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let v = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

/// A one-line progress bar on stderr for long phases.
final class Progress: Sendable {
    let total: Int
    let done = Atomic<Int>(0)
    init(total: Int) { self.total = total }
    func step() {
        let n = done.add(1, ordering: .relaxed).newValue
        if n % max(1, total / 50) == 0 || n == total {
            let filled = n * 40 / max(1, total)
            FileHandle.standardError.write(Data(("\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: max(0, 40 - filled)) + "] \(n)/\(total)").utf8))
        }
    }
    func finish() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func average(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
func fmt(_ x: Double) -> String { String(format: "%.2f", x) }

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
