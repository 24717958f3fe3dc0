/// The static table of RFC 7541 Appendix A (indexes 1-61).
enum HPACKStaticTable {
    static let entries: [HTTP2Header] = [
        HTTP2Header(":authority", ""), HTTP2Header(":method", "GET"), HTTP2Header(":method", "POST"),
        HTTP2Header(":path", "/"), HTTP2Header(":path", "/index.html"), HTTP2Header(":scheme", "http"),
        HTTP2Header(":scheme", "https"), HTTP2Header(":status", "200"), HTTP2Header(":status", "204"),
        HTTP2Header(":status", "206"), HTTP2Header(":status", "304"), HTTP2Header(":status", "400"),
        HTTP2Header(":status", "404"), HTTP2Header(":status", "500"), HTTP2Header("accept-charset", ""),
        HTTP2Header("accept-encoding", "gzip, deflate"), HTTP2Header("accept-language", ""),
        HTTP2Header("accept-ranges", ""), HTTP2Header("accept", ""), HTTP2Header("access-control-allow-origin", ""),
        HTTP2Header("age", ""), HTTP2Header("allow", ""), HTTP2Header("authorization", ""),
        HTTP2Header("cache-control", ""), HTTP2Header("content-disposition", ""), HTTP2Header("content-encoding", ""),
        HTTP2Header("content-language", ""), HTTP2Header("content-length", ""), HTTP2Header("content-location", ""),
        HTTP2Header("content-range", ""), HTTP2Header("content-type", ""), HTTP2Header("cookie", ""),
        HTTP2Header("date", ""), HTTP2Header("etag", ""), HTTP2Header("expect", ""), HTTP2Header("expires", ""),
        HTTP2Header("from", ""), HTTP2Header("host", ""), HTTP2Header("if-match", ""),
        HTTP2Header("if-modified-since", ""), HTTP2Header("if-none-match", ""), HTTP2Header("if-range", ""),
        HTTP2Header("if-unmodified-since", ""), HTTP2Header("last-modified", ""), HTTP2Header("link", ""),
        HTTP2Header("location", ""), HTTP2Header("max-forwards", ""), HTTP2Header("proxy-authenticate", ""),
        HTTP2Header("proxy-authorization", ""), HTTP2Header("range", ""), HTTP2Header("referer", ""),
        HTTP2Header("refresh", ""), HTTP2Header("retry-after", ""), HTTP2Header("server", ""),
        HTTP2Header("set-cookie", ""), HTTP2Header("strict-transport-security", ""),
        HTTP2Header("transfer-encoding", ""), HTTP2Header("user-agent", ""), HTTP2Header("vary", ""),
        HTTP2Header("via", ""), HTTP2Header("www-authenticate", ""),
    ]

    /// Name -> lowest index with that name, for literal-with-indexed-name encoding.
    static let nameIndex: [String: Int] = {
        var map: [String: Int] = [:]
        for (i, entry) in entries.enumerated() where map[entry.name] == nil { map[entry.name] = i + 1 }
        return map
    }()

    /// Exact (name, value) -> index, for fully indexed encoding.
    static let fieldIndex: [HTTP2Header: Int] = {
        var map: [HTTP2Header: Int] = [:]
        for (i, entry) in entries.enumerated() where !entry.value.isEmpty { map[entry] = i + 1 }
        return map
    }()
}
