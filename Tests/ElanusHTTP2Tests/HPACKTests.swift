import Testing
@testable import ElanusHTTP2

/// RFC 7541 Appendix C vectors, decoded in order on one decoder per section.
struct HPACKTests {
    private func h(_ pairs: [(String, String)]) -> [HTTP2Header] { pairs.map { HTTP2Header($0.0, $0.1) } }

    @Test("C.1 integer representations")
    func integers() throws {
        var out: [UInt8] = []
        HPACKInteger.encode(10, prefixBits: 5, into: &out)
        #expect(out == [10])
        out = []
        HPACKInteger.encode(1337, prefixBits: 5, into: &out)
        #expect(out == [31, 0x9a, 0x0a])
        var index = 0
        #expect(try HPACKInteger.decode(out, &index, prefixBits: 5) == 1337)
        out = []
        HPACKInteger.encode(42, prefixBits: 8, into: &out)
        #expect(out == [42])
        var i = 0
        #expect(throws: HPACKError.integerOverflow) { try HPACKInteger.decode([0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], &i, prefixBits: 5) }
    }

    @Test("C.2 single field representations")
    func fieldRepresentations() throws {
        var decoder = HPACKDecoder()
        #expect(try decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")).headers
            == h([("custom-key", "custom-header")]))
        #expect(decoder.dynamicTableSize == 55)
        decoder = HPACKDecoder()
        #expect(try decoder.decode(hex("040c 2f73 616d 706c 652f 7061 7468")).headers == h([(":path", "/sample/path")]))
        #expect(decoder.dynamicTableCount == 0)
        #expect(try decoder.decode(hex("1008 7061 7373 776f 7264 0673 6563 7265 74")).headers == h([("password", "secret")]))
        #expect(decoder.dynamicTableCount == 0)
        #expect(try decoder.decode(hex("82")).headers == h([(":method", "GET")]))
    }

    static let requests = [
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")],
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")],
        [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")],
    ]

    @Test("C.3 requests without Huffman, C.4 with Huffman", arguments: [
        ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 84be 5808 6e6f 2d63 6163 6865",
         "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"],
        ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf",
         "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"],
    ])
    func requestSequences(blocks: [String]) throws {
        var decoder = HPACKDecoder()
        let sizes = [57, 110, 164]
        for (n, block) in blocks.enumerated() {
            #expect(try decoder.decode(hex(block)).headers == h(Self.requests[n]))
            #expect(decoder.dynamicTableSize == sizes[n])
        }
    }

    static let date1 = "Mon, 21 Oct 2013 20:13:21 GMT"
    static let responses = [
        [(":status", "302"), ("cache-control", "private"), ("date", date1), ("location", "https://www.example.com")],
        [(":status", "307"), ("cache-control", "private"), ("date", date1), ("location", "https://www.example.com")],
        [(":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
         ("location", "https://www.example.com"), ("content-encoding", "gzip"),
         ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")],
    ]

    @Test("C.5 responses without Huffman, C.6 with Huffman (256-octet table, evictions)", arguments: [
        ["4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
         "4803 3330 37c1 c0bf",
         "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31"],
        ["4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
         "4883 640e ffc1 c0bf",
         "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"],
    ])
    func responseSequences(blocks: [String]) throws {
        var decoder = HPACKDecoder(maxTableSize: 256)
        let sizes = [222, 222, 215]
        for (n, block) in blocks.enumerated() {
            #expect(try decoder.decode(hex(block)).headers == h(Self.responses[n]))
            #expect(decoder.dynamicTableSize == sizes[n])
        }
    }

    @Test("Huffman round-trips every byte value and random strings")
    func huffmanRoundTrip() throws {
        var rng = SeededGenerator(seed: 7)
        var samples: [[UInt8]] = [Array(0...255), [], Array("www.example.com".utf8)]
        for _ in 0..<200 {
            samples.append((0..<Int.random(in: 0..<64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
        for sample in samples {
            var encoded: [UInt8] = []
            HPACKHuffman.encode(sample, into: &encoded)
            #expect(encoded.count == HPACKHuffman.encodedLength(sample))
            #expect(try HPACKHuffman.decode(encoded) == sample)
        }
        var encoded: [UInt8] = []
        HPACKHuffman.encode(Array("www.example.com".utf8), into: &encoded)
        #expect(encoded == hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff"))
    }

    @Test("Huffman rejects EOS, long padding and non-EOS padding")
    func huffmanInvalid() {
        // 30 one-bits = EOS, padded with two more ones.
        #expect(throws: HPACKError.invalidHuffman) { try HPACKHuffman.decode([0xff, 0xff, 0xff, 0xff]) }
        // 'a' (00011) then a full padding octet: 11 bits of padding.
        #expect(throws: HPACKError.invalidHuffman) { try HPACKHuffman.decode([0b0001_1111, 0xff]) }
        // 'a' padded with zeros instead of EOS bits.
        #expect(throws: HPACKError.invalidHuffman) { try HPACKHuffman.decode([0b0001_1000]) }
    }

    @Test("encoder output decodes to the same list")
    func encoderRoundTrip() throws {
        let headers = h([(":status", "200"), ("content-type", "application/grpc"), ("grpc-status", "0"),
                         ("grpc-message", "ünïcode ok"), ("x-custom", String(repeating: "v", count: 300))])
        for huffman in [true, false] {
            var decoder = HPACKDecoder()
            #expect(try decoder.decode(HPACKEncoder(useHuffman: huffman).encode(headers)).headers == headers)
            #expect(decoder.dynamicTableCount == 0)
        }
    }

    @Test("size updates: bounded by the advertised size and only at the start of a block")
    func tableSizeUpdates() throws {
        var decoder = HPACKDecoder(maxTableSize: 100)
        #expect(throws: HPACKError.tableSizeUpdateTooLarge(4096)) { try decoder.decode(hex("3fe1 1f")) }
        _ = try decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))
        #expect(decoder.dynamicTableSize == 55)
        _ = try decoder.decode(hex("20 82"))  // resize to 0 evicts everything
        #expect(decoder.dynamicTableCount == 0)
        #expect(throws: HPACKError.tableSizeUpdateMisplaced) { try decoder.decode(hex("82 20")) }
        #expect(throws: HPACKError.invalidIndex(62)) { try decoder.decode(hex("be")) }
        #expect(throws: HPACKError.invalidIndex(0)) { try decoder.decode(hex("80")) }
        #expect(throws: HPACKError.truncated) { try decoder.decode(hex("400a 6375")) }
    }

    @Test("header list size is bounded but the table stays in sync")
    func headerListLimit() throws {
        var decoder = HPACKDecoder(maxHeaderListSize: 100)
        let big = HPACKEncoder(useHuffman: false).encode([HTTP2Header("a", String(repeating: "x", count: 200))])
        // Literal with incremental indexing of a 60-octet field, then the big one.
        var block = hex("40 01 6b") + [58] + Array(repeating: UInt8(ascii: "y"), count: 58)
        block += big
        let result = try decoder.decode(block)
        #expect(result.exceededListSize)
        #expect(result.headers.count == 1)
        #expect(decoder.dynamicTableCount == 1)
        #expect(try decoder.decode(hex("be")).headers.first?.name == "k")
    }
}
