import ElanusCore
import Foundation
import Testing

/// Timestamptz text in and out: ISO 8601 with and without offsets, local times across zones and
/// daylight-saving changes, RFC 3339 output, intervals, and what is refused.
@Suite struct TimestamptzTests {
    static func zone(_ name: String) -> TimeZone { TimeZone(identifier: name)! }
    /// Microseconds of a UTC time given as seconds since the epoch.
    static func us(_ seconds: Int64, _ micros: Int64 = 0) -> Int64 { seconds * 1_000_000 + micros }

    /// (text, zone for text without an offset, expected instant in microseconds)
    static let parsed: [(String, String, Int64)] = [
        ("1970-01-01T00:00:00Z", "UTC", 0),
        ("2025-01-01T00:00:00+08:00", "UTC", us(1_735_660_800)),
        ("2025-01-01T00:00:00+0800", "UTC", us(1_735_660_800)),
        ("2025-01-01T00:00:00+08", "UTC", us(1_735_660_800)),
        ("2024-12-31T16:00:00z", "Asia/Tokyo", us(1_735_660_800)),
        ("2025-01-01 08:00:00", "Asia/Shanghai", us(1_735_689_600)),
        ("2025-01-01T08:00", "Asia/Shanghai", us(1_735_689_600)),
        ("2025-01-01", "UTC", us(1_735_689_600)),
        ("2025-01-01T00:00:00.5Z", "UTC", us(1_735_689_600, 500_000)),
        ("2025-01-01T00:00:00.123456789Z", "UTC", us(1_735_689_600, 123_456)),
        ("1969-12-31T23:59:59.75Z", "UTC", -250_000),
        ("0001-01-01T00:00:00Z", "UTC", us(-62_135_596_800)),
        ("9999-12-31T23:59:59Z", "UTC", us(253_402_300_799)),
        ("2024-02-29T12:00:00-05:30", "UTC", us(1_709_227_800)),
        // New York, 2025: EST (-5) until 2025-03-09 07:00Z, EDT (-4) until 2025-11-02 06:00Z.
        ("2025-03-09T01:30:00", "America/New_York", us(1_741_501_800)),  // EST
        ("2025-03-09T03:30:00", "America/New_York", us(1_741_505_400)),  // EDT
        ("2025-03-09T02:30:00", "America/New_York", us(1_741_505_400)),  // skipped: read with EST, 07:30Z
        ("2025-11-02T01:30:00", "America/New_York", us(1_762_061_400)),  // twice: the first (EDT)
        ("2025-11-02T02:30:00", "America/New_York", us(1_762_068_600)),  // EST
        // Southern hemisphere: Sydney is on daylight time (+11) in January, standard (+10) in July.
        ("2025-01-15T12:00:00", "Australia/Sydney", us(1_736_902_800)),
        ("2025-07-15T12:00:00", "Australia/Sydney", us(1_752_544_800)),
    ]

    @Test(arguments: parsed) func parses(_ text: String, _ zone: String, _ expected: Int64) {
        #expect(Timestamptz.parse(text, zone: Self.zone(zone)) == expected, "\(text) in \(zone)")
    }

    @Test(arguments: [
        "", "2025", "2025-1-01", "2025-13-01", "2025-02-30", "2023-02-29", "2025-01-01T24:00:00Z", "2025-01-01T10:60Z",
        "2025-01-01T10:00:00+24:00", "2025-01-01T10:00:00Zjunk", "2025-01-01T10:00:00.Z", "0000-01-01", "10000-01-01",
        "2025-01-01X10:00", "２０２５-01-01",
    ])
    func refuses(_ text: String) {
        #expect(Timestamptz.parse(text, zone: Timestamptz.utc) == nil, "\(text)")
    }

    /// (instant, zone, RFC 3339 text)
    static let formatted: [(Int64, String, String)] = [
        (0, "UTC", "1970-01-01T00:00:00Z"),
        (us(1_735_660_800), "UTC", "2024-12-31T16:00:00Z"),
        (us(1_735_660_800), "Asia/Shanghai", "2025-01-01T00:00:00+08:00"),
        (us(1_735_689_600, 500_000), "UTC", "2025-01-01T00:00:00.5Z"),
        (us(1_735_689_600, 123_456), "Asia/Kolkata", "2025-01-01T05:30:00.123456+05:30"),
        (-250_000, "UTC", "1969-12-31T23:59:59.75Z"),
        (us(1_741_501_800), "America/New_York", "2025-03-09T01:30:00-05:00"),
        (us(1_741_505_400), "America/New_York", "2025-03-09T03:30:00-04:00"),
        (us(1_762_061_400), "America/New_York", "2025-11-02T01:30:00-04:00"),
        (us(1_762_065_000), "America/New_York", "2025-11-02T01:30:00-05:00"),
        (us(-62_135_596_800), "UTC", "0001-01-01T00:00:00Z"),
        (us(1_752_544_800), "Europe/London", "2025-07-15T03:00:00+01:00"),
    ]

    @Test(arguments: formatted) func formats(_ micros: Int64, _ zone: String, _ expected: String) {
        #expect(Timestamptz.format(micros, zone: Self.zone(zone)) == expected)
        // And back: the text names the same instant.
        #expect(Timestamptz.parse(expected, zone: Timestamptz.utc) == micros)
    }

    /// Every hour of two years in zones with and without daylight saving reads back as itself.
    @Test func roundTripsAcrossZonesAndChanges() {
        for name in ["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns"] {
            let zone = Self.zone(name)
            for hour in stride(from: Int64(1_704_067_200), to: 1_767_225_600, by: 3600) {
                let micros = hour * 1_000_000 + 250
                let text = Timestamptz.format(micros, zone: zone)
                guard Timestamptz.parse(text, zone: Timestamptz.utc) == micros else {
                    Issue.record("\(name): \(micros) -> \(text)")
                    return
                }
            }
        }
    }

    @Test func intervals() {
        #expect(Timestamptz.interval("P1D") == 86_400_000_000)
        #expect(Timestamptz.interval("PT3H") == Int64(10_800_000_000))
        #expect(Timestamptz.interval("P2DT6H") == Int64(194_400_000_000))
        #expect(Timestamptz.interval("PT1.5S") == 1_500_000)
        #expect(Timestamptz.interval("P1W") == Int64(604_800_000_000))
        #expect(Timestamptz.interval("-PT30M") == -1_800_000_000)
        #expect(Timestamptz.interval("P0D") == 0)
        for bad in ["", "P", "1D", "PT", "P1H", "PT1D", "P1Y", "P1M", "P1DT", "PxD", "P1D2", "P99999999999999999999D"] {
            #expect(Timestamptz.interval(bad) == nil, "\(bad)")
        }
    }

    @Test func zones() throws {
        #expect(try Timestamptz.zone("Asia/Shanghai").identifier == "Asia/Shanghai")
        for bad in ["", "Mars/Olympus", String(repeating: "A", count: 100)] {
            #expect(throws: ElanusError.self) { try Timestamptz.zone(bad) }
        }
    }

    @Test func rowsConvertWithTheZone() throws {
        let field = FieldSchema(name: "t", dataType: .timestamptz)
        let shanghai = Self.zone("Asia/Shanghai")
        #expect(try FieldValue.convert(.string("2025-01-01T08:00:00"), for: field, row: 0, timeZone: shanghai) == .int(Self.us(1_735_689_600)))
        #expect(try FieldValue.convert(.string("2025-01-01T08:00:00Z"), for: field, row: 0, timeZone: shanghai) == .int(Self.us(1_735_718_400)))
        #expect(throws: FieldConversionError.self) { try FieldValue.convert(.int(5), for: field, row: 0) }
        #expect(throws: FieldConversionError.self) { try FieldValue.convert(.string("yesterday"), for: field, row: 0) }
    }

    /// A default is decoded as its text and becomes an instant once the collection's zone is
    /// known: text without an offset is a local time there, text with one is its own instant.
    @Test func defaultValuesResolveInTheCollectionsZone() throws {
        #expect(try ScalarValue.defaultValue(from: .string("2025-01-01T08:00:00"), for: .timestamptz, field: "t") == .string("2025-01-01T08:00:00"))
        #expect(throws: ElanusError.self) { try ScalarValue.defaultValue(from: .string("soon"), for: .timestamptz, field: "t") }
        var schema = CollectionSchema(fields: [
            FieldSchema(name: "local", dataType: .timestamptz, defaultValue: .string("2025-01-01T08:00:00")),
            FieldSchema(name: "utc", dataType: .timestamptz, defaultValue: .string("2025-01-01T00:00:00Z")),
            FieldSchema(name: "instant", dataType: .timestamptz, defaultValue: .int(5)),
            FieldSchema(name: "name", dataType: .varChar, defaultValue: .string("2025-01-01T08:00:00")),
        ])
        try schema.resolveTimestamptzDefaults(in: Self.zone("Asia/Shanghai"))
        #expect(schema.fields.map(\.defaultValue) == [.int(Self.us(1_735_689_600)), .int(Self.us(1_735_689_600)), .int(5), .string("2025-01-01T08:00:00")])
    }
}
