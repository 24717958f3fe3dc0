import Foundation

/// Milvus 2.6's Timestamptz: an instant, stored as microseconds since the Unix epoch in UTC (the
/// `int64` of milvus-proto's TimestamptzArray), read from ISO 8601 text and written back as
/// RFC 3339 text in a time zone.
///
/// Text without an offset is a local time in the zone that applies (the request's `timezone`,
/// else the collection's, else the database's, else UTC). Zones come from the system's tz
/// database through Foundation, so daylight-saving changes follow the IANA rules: a local time
/// skipped by a change (02:30 on a spring-forward night) is read with the offset before it, and
/// one that happens twice (autumn) is its first occurrence, as Go's `time.Date` does for Milvus.
public enum Timestamptz {
    /// The zone when nothing sets one.
    public static let utc = TimeZone(secondsFromGMT: 0)!
    /// The name a collection's `timezone` property gets when neither the request nor its
    /// database names one (Milvus's `common.DefaultTimezone`).
    public static let utcName = "UTC"
    /// The property key of a collection's or database's zone, and the request parameter.
    public static let propertyKey = "timezone"

    /// Years a value may have: ISO 8601's four-digit years.
    static let years: ClosedRange<Int64> = 1...9999

    /// The zone named by an IANA name ("Asia/Shanghai", "UTC"); 1100 when there is none.
    public static func zone(_ name: String) throws(ElanusError) -> TimeZone {
        guard !name.isEmpty, name.utf8.count <= 64, let zone = TimeZone(identifier: name) else {
            throw .invalidParameter("invalid timezone: \(name), it should be a valid IANA time zone name such as Asia/Shanghai or UTC")
        }
        return zone
    }

    /// Microseconds since the epoch of `text`: `YYYY-MM-DD`, optionally followed by `T` (or a
    /// space) and `hh:mm[:ss[.f...]]`, optionally followed by `Z` or an offset (`+08:00`,
    /// `+0800`, `+08`). Fractions past microseconds are cut. nil when the text is not such a time.
    public static func parse(_ text: String, zone: TimeZone) -> Int64? {
        var s = Substring(text).utf8[...]
        func digits(_ n: Int) -> Int64? {
            guard s.count >= n else { return nil }
            var v: Int64 = 0
            for _ in 0..<n {
                let c = s.first!
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
                s = s.dropFirst()
            }
            return v
        }
        func take(_ c: UInt8) -> Bool {
            guard s.first == c else { return false }
            s = s.dropFirst()
            return true
        }
        guard let year = digits(4), take(UInt8(ascii: "-")), let month = digits(2), take(UInt8(ascii: "-")), let day = digits(2) else { return nil }
        guard years.contains(year), (1...12).contains(month), (1...daysIn(month, year)).contains(day) else { return nil }
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, micros: Int64 = 0
        if take(UInt8(ascii: "T")) || take(UInt8(ascii: "t")) || take(UInt8(ascii: " ")) {
            guard let h = digits(2), take(UInt8(ascii: ":")), let m = digits(2) else { return nil }
            (hour, minute) = (h, m)
            if take(UInt8(ascii: ":")) {
                guard let sec = digits(2) else { return nil }
                second = sec
                if take(UInt8(ascii: ".")) || take(UInt8(ascii: ",")) {
                    var scale: Int64 = 100_000
                    var count = 0
                    while let c = s.first, c >= 48 && c <= 57 {
                        micros += Int64(c - 48) * scale
                        scale /= 10
                        count += 1
                        s = s.dropFirst()
                    }
                    guard count > 0 else { return nil }
                }
            }
            guard hour <= 23, minute <= 59, second <= 59 else { return nil }
        }
        var offset: Int64?
        if take(UInt8(ascii: "Z")) || take(UInt8(ascii: "z")) {
            offset = 0
        } else if let sign = s.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            s = s.dropFirst()
            guard let h = digits(2), h <= 23 else { return nil }
            var m: Int64 = 0
            if take(UInt8(ascii: ":")) {
                guard let mm = digits(2) else { return nil }
                m = mm
            } else if !s.isEmpty {
                guard let mm = digits(2) else { return nil }
                m = mm
            }
            guard m <= 59 else { return nil }
            offset = (sign == UInt8(ascii: "-") ? -1 : 1) * (h * 3600 + m * 60)
        }
        guard s.isEmpty else { return nil }
        let local = days(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        let seconds = local - (offset ?? localOffset(local, zone))
        return seconds * 1_000_000 + micros
    }

    /// `micros` as RFC 3339 text in `zone`: `2025-01-01T08:00:00+08:00`, `Z` for a zero offset,
    /// the fraction only when there is one and without trailing zeros (as Go's RFC3339Nano).
    public static func format(_ micros: Int64, zone: TimeZone) -> String {
        let (seconds, fraction) = floorDivide(micros, 1_000_000)
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
        let (dayNumber, time) = floorDivide(seconds + offset, 86_400)
        let (year, month, day) = civil(dayNumber)
        func pad(_ v: Int64, _ width: Int) -> String {
            let text = String(v)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var out = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(time / 3600, 2)):\(pad(time / 60 % 60, 2)):\(pad(time % 60, 2))"
        if fraction != 0 {
            var digits = pad(fraction, 6)
            while digits.hasSuffix("0") { digits.removeLast() }
            out += "." + digits
        }
        if offset == 0 { return out + "Z" }
        let magnitude = abs(offset)
        return out + (offset < 0 ? "-" : "+") + pad(magnitude / 3600, 2) + ":" + pad(magnitude / 60 % 60, 2)
    }

    /// The microseconds of an ISO 8601 duration of fixed length (`P2DT6H`, `PT1.5S`, `P1W`; a
    /// leading `-` negates). nil for text that is not one, and for years and months, whose
    /// length depends on the date they are added to.
    public static func interval(_ text: String) -> Int64? {
        var chars = Array(text.uppercased().utf8)[...]
        var negative = false
        if chars.first == UInt8(ascii: "-") {
            negative = true
            chars = chars.dropFirst()
        }
        guard chars.first == UInt8(ascii: "P"), chars.count > 1 else { return nil }
        chars = chars.dropFirst()
        var total: Double = 0
        var inTime = false
        var number = ""
        var sawUnit = false
        var sawTimeUnit = false
        for c in chars {
            if c == UInt8(ascii: "T") {
                guard !inTime, number.isEmpty else { return nil }
                inTime = true
                continue
            }
            if (c >= 48 && c <= 57) || c == UInt8(ascii: ".") {
                number.append(Character(Unicode.Scalar(c)))
                continue
            }
            guard let value = Double(number), value.isFinite else { return nil }
            number = ""
            let unit: Double
            switch (c, inTime) {
            case (UInt8(ascii: "W"), false): unit = 7 * 86_400
            case (UInt8(ascii: "D"), false): unit = 86_400
            case (UInt8(ascii: "H"), true): unit = 3600
            case (UInt8(ascii: "M"), true): unit = 60
            case (UInt8(ascii: "S"), true): unit = 1
            default: return nil
            }
            total += value * unit
            sawUnit = true
            sawTimeUnit = inTime
        }
        // A `T` needs a time unit after it (`P1DT` is not a duration).
        guard number.isEmpty, sawUnit, !inTime || sawTimeUnit else { return nil }
        let micros = (total * 1_000_000).rounded()
        // Bounded to about ±292,000 years, where Int64 microseconds end.
        guard abs(micros) < 9.2e18 else { return nil }
        return Int64(micros) * (negative ? -1 : 1)
    }

    /// The zone's offset at the local time `local` (seconds, as if UTC): the offset at the
    /// instant that local time names, trying the offset after a change and then the one before.
    static func localOffset(_ local: Int64, _ zone: TimeZone) -> Int64 {
        func offset(at seconds: Int64) -> Int64 { Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds)))) }
        let first = offset(at: local)
        let second = offset(at: local - first)
        if second == first { return first }
        // Near a change: keep the offset that names this local time, the earlier when both do.
        let candidates = [max(first, second), min(first, second)]
        for candidate in candidates where offset(at: local - candidate) == candidate { return candidate }
        return min(first, second)
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    static func isLeap(_ y: Int64) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysIn(_ month: Int64, _ year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func days(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day number (civil_from_days).
    static func civil(_ dayNumber: Int64) -> (Int64, Int64, Int64) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
