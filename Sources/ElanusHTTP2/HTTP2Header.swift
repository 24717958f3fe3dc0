/// One header field as the application sees it: lower-case name, value as text.
///
/// Values are decoded from octets as UTF-8 with replacement; HTTP field values are ASCII in
/// practice and gRPC carries binary only in base64 `-bin` fields.
public struct HTTP2Header: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// RFC 7541 §4.1 entry size: octets of name and value plus 32.
    public var hpackSize: Int { name.utf8.count + value.utf8.count + 32 }

    public var description: String { "\(name): \(value)" }
}

extension [HTTP2Header] {
    /// The first value of `name` (names are lower-case in HTTP/2).
    public func first(_ name: String) -> String? {
        first(where: { $0.name == name })?.value
    }
}
