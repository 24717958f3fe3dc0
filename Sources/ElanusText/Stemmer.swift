import CStemmer

/// A Snowball stemmer from libstemmer. Not thread-safe: each analyzer run opens its own (a
/// stemmer is a small allocation) and closes it when the run ends.
final class SnowballStemmer {
    /// The languages of Milvus's stemmer filter (lower-cased, with its historical misspelling).
    static let languages: [String: String] = [
        "arabic": "arabic", "arabig": "arabic", "danish": "danish", "dutch": "dutch", "english": "english",
        "finnish": "finnish", "french": "french", "german": "german", "greek": "greek", "hungarian": "hungarian",
        "italian": "italian", "norwegian": "norwegian", "portuguese": "portuguese", "romanian": "romanian",
        "russian": "russian", "spanish": "spanish", "swedish": "swedish", "tamil": "tamil", "turkish": "turkish",
    ]

    private let handle: OpaquePointer

    /// nil when libstemmer has no stemmer for `algorithm` (a name from `languages`' values).
    init?(algorithm: String) {
        guard let handle = sb_stemmer_new(algorithm, "UTF_8") else { return nil }
        self.handle = handle
    }

    deinit { sb_stemmer_delete(handle) }

    func stem(_ word: String) -> String {
        var bytes = Array(word.utf8)
        guard !bytes.isEmpty, bytes.count < Int(Int32.max) else { return word }
        let stemmed: String? = bytes.withUnsafeMutableBufferPointer { buffer in
            // sb_stemmer_stem returns NULL only when out of memory; the word is then kept.
            guard let out = sb_stemmer_stem(handle, buffer.baseAddress, Int32(buffer.count)) else { return nil }
            let length = Int(sb_stemmer_length(handle))
            return String(decoding: UnsafeBufferPointer(start: out, count: length), as: UTF8.self)
        }
        return stemmed ?? word
    }
}
