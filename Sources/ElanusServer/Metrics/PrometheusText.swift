/// Writes the Prometheus text exposition format (version 0.0.4): for each metric family a
/// `# HELP` and `# TYPE` line, then its samples, one per line.
///
/// Elanus writes the format itself rather than pulling in swift-metrics and a Prometheus
/// backend: the page is built on demand from counters the server already keeps, so a registry
/// in between would only copy them.
struct PrometheusText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private(set) var text = ""

    /// Starts a family; `type` is counter, gauge or histogram.
    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ value: Int) { sample(name, [], Double(value)) }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (i, (key, label)) in labels.enumerated() {
                if i > 0 { text += "," }
                text += key + "=\"" + PrometheusText.escape(label) + "\""
            }
            text += "}"
        }
        text += " " + PrometheusText.format(value) + "\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Int) {
        sample(name, labels, Double(value))
    }

    /// A label value may hold any UTF-8; only backslash, double quote and newline are escaped.
    static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
