import CICU

/// A compiled regular expression for the `regex` filter (ICU syntax, close to the Rust syntax
/// Milvus uses; look-ahead included). ICU bounds each match's work, so a pathological pattern
/// costs a bounded time per token. The compiled form is shared; each run searches with a clone,
/// since an ICU matcher holds per-search state.
public final class TokenRegex: Equatable, @unchecked Sendable {
    public let pattern: String
    // Written once in init, only cloned afterwards (uregex_clone reads it): safe to share.
    private let compiled: UnsafeMutableRawPointer

    init(_ pattern: String) throws(AnalyzerError) {
        var units = Array(pattern.utf16)
        var error = [CChar](repeating: 0, count: 128)
        guard units.count < Int(Int32.max),
            let compiled = elanus_icu_regex_compile(&units, Int32(units.count), &error, Int32(error.count))
        else {
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw AnalyzerError("regex expression invalid, expr:\(pattern), err: \(reason)")
        }
        self.pattern = pattern
        self.compiled = compiled
    }

    deinit { elanus_icu_regex_close(compiled) }

    public static func == (lhs: TokenRegex, rhs: TokenRegex) -> Bool { lhs.pattern == rhs.pattern }

    /// A matcher for one run (one thread).
    func matcher() -> Matcher? { elanus_icu_regex_clone(compiled).map(Matcher.init) }

    final class Matcher {
        private let handle: UnsafeMutableRawPointer
        init(_ handle: UnsafeMutableRawPointer) { self.handle = handle }
        deinit { elanus_icu_regex_close(handle) }

        /// Whether the expression matches anywhere in `text`; nil when ICU gave up.
        func search(_ text: String) -> Bool? {
            var bytes = Array(text.utf8)
            guard bytes.count < Int(Int32.max) else { return nil }
            let result = bytes.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { elanus_icu_regex_search(handle, $0.baseAddress, Int32($0.count)) }
            }
            return result < 0 ? nil : result == 1
        }
    }
}
