/// Conversions between stored vector bytes and values.
enum VectorStorage {
    /// The value of one stored vector: floats for float and half types, bytes for binary.
    static func value(_ raw: UnsafeRawBufferPointer, type: DataType) -> Value {
        switch type {
        case .floatVector(let d):
            return .vector((0..<d).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) })
        case .float16Vector(let d), .bfloat16Vector(let d):
            let format: Kernels.HalfFormat = type == .float16Vector(dimension: d) ? .float16 : .bfloat16
            return .vector((0..<d).map { Kernels.widen(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)), format) })
        case .binaryVector: return .bytes(Array(raw))
        default: preconditionFailure("not a vector type")
        }
    }

    static func halfFormat(_ type: DataType) -> Kernels.HalfFormat {
        if case .float16Vector = type { return .float16 }
        return .bfloat16
    }
}
