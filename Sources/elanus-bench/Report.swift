import ElanusCore
import Foundation

/// Every figure of a benchmark run: printed as a table row the moment it is measured, and written
/// at the end as one JSON file with the exact parameters, the machine and the commit. A figure
/// measured against a baseline in the same run carries the ratio (value / baseline), which is what
/// the project tracks; absolute numbers vary from machine to machine.
final class Report {
    struct Figure {
        var scenario: String
        var name: String
        var value: Double
        var unit: String
        var baseline: Double?
        var note: String
        var ratio: Double? { baseline.map { $0 == 0 ? 0 : value / $0 } }
    }

    private(set) var figures: [Figure] = []
    private(set) var parameters: [(key: String, value: JSON)] = []
    private var currentScenario = ""

    func parameter(_ key: String, _ value: JSON) { parameters.append((key, value)) }

    func add(_ scenario: String, _ name: String, _ value: Double, _ unit: String, baseline: Double? = nil, note: String = "") {
        let figure = Figure(scenario: scenario, name: name, value: value, unit: unit, baseline: baseline, note: note)
        figures.append(figure)
        if scenario != currentScenario {
            currentScenario = scenario
            print("\n== \(scenario)")
            print(pad("figure", 42) + pad("value", 22) + pad("baseline", 14) + pad("ratio", 9) + "note")
        }
        let ratio = figure.ratio.map { "x" + fmt($0) } ?? ""
        print(pad(name, 42) + pad(fmt(value) + " " + unit, 22) + pad(baseline.map(fmt) ?? "", 14) + pad(ratio, 9) + note)
    }

    /// Writes the JSON file: `{commit, date, machine, parameters, figures}`.
    func write(to path: String) throws {
        let figureJSON: [JSON] = figures.map { f in
            var members: [(key: String, value: JSON)] = [
                ("scenario", .string(f.scenario)), ("name", .string(f.name)), ("value", .double(f.value)), ("unit", .string(f.unit)),
            ]
            if let b = f.baseline, let r = f.ratio { members += [("baseline", .double(b)), ("ratio", .double(r))] }
            if !f.note.isEmpty { members.append(("note", .string(f.note))) }
            return .object(members)
        }
        let document: JSON = .object([
            ("commit", .string(Report.commit())),
            ("date", .string(ISO8601DateFormatter().string(from: Date()))),
            ("machine", Report.machine()),
            ("parameters", .object(parameters)),
            ("figures", .array(figureJSON)),
        ])
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(document.serializedBytes()).write(to: url, options: .atomic)
    }

    /// The commit under test: `ELANUS_COMMIT` (Scripts/bench sets it, with "+dirty" for local
    /// changes), else "unknown".
    static func commit() -> String { ProcessInfo.processInfo.environment["ELANUS_COMMIT"] ?? "unknown" }

    static func machine() -> JSON {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown"
        return .object([
            ("cores", .int(Int64(ProcessInfo.processInfo.activeProcessorCount))),
            ("memoryBytes", .int(Int64(ProcessInfo.processInfo.physicalMemory))),
            ("cpu", .string(model)),
            ("os", .string(ProcessInfo.processInfo.operatingSystemVersionString)),
        ])
    }
}
