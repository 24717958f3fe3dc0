import ElanusCore

/// Why analyzer parameters were refused. Callers turn it into a 1100 (`ElanusError`), prefixed
/// with what was being analyzed.
public struct AnalyzerError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }

    public var invalidParameter: ElanusError { .invalidParameter(reason) }
}
