import ElanusText
import Foundation

/// The text scenario's corpus: short documents drawn from a seeded vocabulary of pronounceable
/// words with Zipf frequencies (rank r has weight 1/r), so a few words are in most documents and
/// most words are rare, as in real text. Queries draw their words the same way.
struct TextCorpus: Sendable {
    static let vocabularySize = 20_000
    static let syllables = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "ve", "zu", "ba", "de", "fo", "gi", "ju", "ly"]

    let documents: [String]
    let vocabulary: [String]
    /// Cumulative Zipf weights, for sampling by binary search.
    let cumulative: [Double]
    let seed: UInt64

    init(documents count: Int, seed: UInt64) {
        vocabulary = (0..<Self.vocabularySize).map { i in
            // Every number a distinct word of two to five syllables.
            var n = i
            var word = Self.syllables[n % 16]
            n /= 16
            repeat {
                word += Self.syllables[n % 16]
                n /= 16
            } while n > 0
            return word
        }
        var total = 0.0
        cumulative = (1...Self.vocabularySize).map { rank in
            total += 1 / Double(rank)
            return total
        }
        self.seed = seed
        var rng = SplitMix(seed: seed)
        var documents: [String] = []
        documents.reserveCapacity(count)
        let (words, weights) = (vocabulary, cumulative)
        for _ in 0..<count {
            documents.append((0..<Int.random(in: 6...16, using: &rng)).map { _ in Self.word(words, weights, &rng) }.joined(separator: " "))
        }
        self.documents = documents
    }

    static func word(_ vocabulary: [String], _ cumulative: [Double], _ rng: inout SplitMix) -> String {
        let x = Double.random(in: 0..<cumulative[cumulative.count - 1], using: &rng)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] <= x { low = mid + 1 } else { high = mid }
        }
        return vocabulary[low]
    }

    /// `count` queries of two or three words, from their own seed.
    func queries(_ count: Int) -> [String] {
        var rng = SplitMix(seed: seed ^ 0x5EED)
        var out: [String] = []
        for _ in 0..<count {
            out.append((0..<Int.random(in: 2...3, using: &rng)).map { _ in Self.word(vocabulary, cumulative, &rng) }.joined(separator: " "))
        }
        return out
    }

    /// The insert body of rows `range` (ids are row numbers): the text alone, as a BM25 user sends it.
    func insertBody(_ range: Range<Int>, collection: String) -> [UInt8] {
        var out = Array(#"{"collectionName":"\#(collection)","data":["#.utf8)
        for i in range {
            if i > range.lowerBound { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"id":\#(i),"text":"\#(documents[i])"}"#.utf8)
        }
        out += Array("]}".utf8)
        return out
    }
}

/// The in-process baseline: the same analyzer and the same BM25 scoring (Milvus's IDF,
/// k1 1.2, b 0.75) over a plain inverted index of the same documents, one thread, no server:
/// the physical limit the server's full-text search and text_match are measured against.
struct InvertedBaseline {
    /// Term to its postings: (document, term frequency), documents ascending.
    var postings: [String: [(doc: Int32, tf: Float)]] = [:]
    var lengths: [Float] = []
    var averageLength: Double = 0
    let buildSeconds: Double
    static let k1: Float = 1.2
    static let b: Float = 0.75

    init(_ documents: [String]) {
        let start = DispatchTime.now().uptimeNanoseconds
        let analyzer = Analyzer.standard
        lengths.reserveCapacity(documents.count)
        var total = 0.0
        for (d, text) in documents.enumerated() {
            let tokens = analyzer.analyze(text)
            var counts: [String: Float] = [:]
            for token in tokens { counts[token.text, default: 0] += 1 }
            for (term, tf) in counts { postings[term, default: []].append((Int32(d), tf)) }
            lengths.append(Float(tokens.count))
            total += Double(tokens.count)
        }
        averageLength = total / Double(max(1, documents.count))
        buildSeconds = seconds(since: start)
    }

    /// The ten best documents for `query` by BM25, best first.
    func search(_ query: String, scores: inout [Float], touched: inout [Int32]) -> [(Int32, Float)] {
        let n = Double(lengths.count)
        var counts: [String: Float] = [:]
        for token in Analyzer.standard.analyze(query) { counts[token.text, default: 0] += 1 }
        touched.removeAll(keepingCapacity: true)
        let average = Float(max(averageLength, 1))
        for (term, qtf) in counts {
            guard let list = postings[term] else { continue }
            let df = Double(list.count)
            let weight = qtf * Float(log(1 + (n - df + 0.5) / (df + 0.5)))
            for (doc, tf) in list {
                let d = Int(doc)
                if scores[d] == 0 { touched.append(doc) }
                let norm = Self.k1 * (1 - Self.b + Self.b * lengths[d] / average)
                scores[d] += weight * tf * (Self.k1 + 1) / (tf + norm)
            }
        }
        var best: [(Int32, Float)] = []
        for doc in touched {
            let s = scores[Int(doc)]
            scores[Int(doc)] = 0
            if best.count < 10 || s > best[best.count - 1].1 {
                best.append((doc, s))
                best.sort { $0.1 > $1.1 }
                if best.count > 10 { best.removeLast() }
            }
        }
        return best
    }

    /// How many documents hold any of the query's tokens (text_match's work).
    func matchCount(_ query: String, seen: inout [Bool]) -> Int {
        var matched: [Int32] = []
        for token in Set(Analyzer.standard.analyze(query).map(\.text)) {
            for (doc, _) in postings[token] ?? [] where !seen[Int(doc)] {
                seen[Int(doc)] = true
                matched.append(doc)
            }
        }
        for doc in matched { seen[Int(doc)] = false }
        return matched.count
    }
}
