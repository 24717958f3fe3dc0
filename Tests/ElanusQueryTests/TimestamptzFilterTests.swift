import ElanusCore
import struct Foundation.TimeZone
import Testing

@testable import ElanusQuery

/// Timestamptz comparisons in the filter checker: ISO literals, and `{templates}` from
/// exprParams, which Milvus's plan passes through for a Timestamptz field as they are and its
/// segments read as the int64 instant (microseconds since 1970 UTC). So an integer template is
/// the instant, and text or a float is refused (Milvus fails it when its segments run the plan).
@Suite struct TimestamptzFilterTests {
    static let schema = CollectionSchema(fields: [
        FieldSchema(fieldID: 100, name: "id", dataType: .int64, isPrimary: true),
        FieldSchema(fieldID: 101, name: "ts", dataType: .timestamptz, nullable: true),
        FieldSchema(fieldID: 102, name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", "2")]),
    ])
    static let ts = ColumnRef.scalar(fieldID: 101, type: .timestamptz)
    /// 2025-01-01T00:00:00Z and 2025-01-02T00:00:00Z in microseconds.
    static let jan1: Int64 = 1_735_689_600_000_000
    static let jan2: Int64 = 1_735_776_000_000_000

    func check(_ filter: String, _ params: [(key: String, value: JSON)] = []) throws(ElanusError) -> Predicate {
        try FilterChecker.check(filter, schema: Self.schema, params: params)
    }

    @Test func integerTemplatesAreInstants() throws {
        let t: [(key: String, value: JSON)] = [("t", .int(Self.jan1)), ("u", .int(Self.jan2)), ("l", [.int(Self.jan1), .int(Self.jan2)])]
        #expect(try check("ts > {t}", t) == .compare(Self.ts, .gt, .int(Self.jan1)))
        #expect(try check("{t} >= ts", t) == .compare(Self.ts, .le, .int(Self.jan1)))
        #expect(try check("{t} <= ts < {u}", t) == .and([.compare(Self.ts, .ge, .int(Self.jan1)), .compare(Self.ts, .lt, .int(Self.jan2))]))
        #expect(try check("ts in {l}", t) == .inList(Self.ts, [.int(Self.jan1), .int(Self.jan2)], negated: false))
        #expect(try check("ts == ISO '2025-01-01T08:00:00+08:00'") == .compare(Self.ts, .eq, .int(Self.jan1)))
        #expect(try check("ts + INTERVAL 'P1D' > {t}", t) == .arithmetic(Self.ts, .add, .int(86_400_000_000), .gt, .int(Self.jan1)))
    }

    /// An ISO literal without an offset is a local time in the zone given (the request's, else
    /// the collection's), as Milvus's plan reads it; one with an offset is its own instant.
    @Test func isoLiteralsWithoutAnOffsetAreLocalTimes() throws {
        let shanghai = TimeZone(identifier: "Asia/Shanghai")!
        #expect(try FilterChecker.check("ts == ISO '2025-01-01T08:00:00'", schema: Self.schema, timeZone: shanghai) == .compare(Self.ts, .eq, .int(Self.jan1)))
        #expect(try FilterChecker.check("ts == ISO '2025-01-01T00:00:00Z'", schema: Self.schema, timeZone: shanghai) == .compare(Self.ts, .eq, .int(Self.jan1)))
        #expect(try check("ts == ISO '2025-01-01T00:00:00'") == .compare(Self.ts, .eq, .int(Self.jan1)))
    }

    @Test(arguments: [
        ("ts > {t}", JSON.string("2025-01-01T00:00:00Z"), "cannot compare a Timestamptz field with a string: write the time as ISO"),
        ("ts > {t}", JSON.double(1.5), "cannot compare a Timestamptz field with a float"),
        ("ts in {t}", JSON.array([.string("2025-01-01T00:00:00Z")]), "cannot compare a Timestamptz field with a string"),
        ("ts == {t}", JSON.bool(true), "cannot compare a Timestamptz field with a bool"),
        ("ts + INTERVAL 'P1D' > {t}", JSON.string("2025-01-01T00:00:00Z"), "arithmetic results compare only with numbers"),
    ])
    func otherTemplatesAreRefused(filter: String, value: JSON, fragment: String) {
        do {
            _ = try check(filter, [("t", value)])
            Issue.record("\(filter) with \(value.serialized()) was accepted")
        } catch {
            #expect(error.code == .invalidParameter)
            #expect(error.message.hasPrefix("failed to create query plan: ") && error.message.contains(fragment), "\(error.message)")
        }
    }
}
