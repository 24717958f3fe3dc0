/// Conversions between Float and the 16-bit vector element formats (IEEE half and bfloat16),
/// as bit patterns, so storage never depends on the platform's Float16 support.
public enum HalfFloat {
    /// IEEE 754 binary16, round to nearest even.
    public static func float16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        var mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF { return sign | 0x7C00 | (mantissa != 0 ? 0x200 : 0) }
        var e = exponent - 127 + 15
        if e >= 0x1F { return sign | 0x7C00 }
        if e <= 0 {
            if e < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - e)
            let half = UInt32(1) << (shift - 1)
            var m = mantissa >> shift
            let rest = mantissa & ((1 << shift) - 1)
            if rest > half || (rest == half && m & 1 == 1) { m += 1 }
            return sign | UInt16(m)
        }
        var m = mantissa >> 13
        let rest = mantissa & 0x1FFF
        if rest > 0x1000 || (rest == 0x1000 && m & 1 == 1) {
            m += 1
            if m == 0x400 {
                m = 0
                e += 1
                if e >= 0x1F { return sign | 0x7C00 }
            }
        }
        return sign | UInt16(e << 10) | UInt16(m)
    }

    public static func float(fromFloat16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            let magnitude = Float(mantissa) * (1.0 / 16_777_216.0)  // 2^-24
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// bfloat16: the top half of a Float, rounded to nearest even.
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    public static func float(fromBFloat16 bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// A stored element back as a Float: bfloat16 when `bfloat16`, else IEEE half.
    @inline(__always) public static func float(_ bits: UInt16, bfloat16: Bool) -> Float {
        bfloat16 ? float(fromBFloat16: bits) : float(fromFloat16: bits)
    }
}
