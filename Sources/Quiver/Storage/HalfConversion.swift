/// float32 → 16-bit conversions for storing float16 and bfloat16 vectors (round to nearest even).
enum HalfConversion {
    static func narrow(_ x: Float, _ format: Kernels.HalfFormat) -> UInt16 {
        switch format {
        case .float16:
            #if arch(x86_64) || arch(arm64)
            return Float16(x).bitPattern
            #else
            preconditionFailure("float16 needs Float16 support")
            #endif
        case .bfloat16:
            let bits = x.bitPattern
            if x.isNaN { return UInt16(bits >> 16) | 0x40 }
            let rounding = 0x7FFF + ((bits >> 16) & 1)
            return UInt16((bits &+ rounding) >> 16)
        }
    }

    static func narrow(_ v: [Float], _ format: Kernels.HalfFormat) -> [UInt16] {
        v.map { narrow($0, format) }
    }
}
