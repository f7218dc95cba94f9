internal import CQuiverKernels

/// The C kernels of one instruction-set variant (`QuiverMiniLMKernels.h` in `CQuiverKernels`).
///
/// ``selected`` is the CPU's best variant, capped at run time by `QUIVER_CPU=baseline|avx2|avx512`
/// (`QuiverCPU.h`); tests and benchmarks can name another with ``init(isa:)``. Weights are packed
/// for one variant's panel width, so a ``Linear`` keeps the kernels it was packed for.
struct Kernels: @unchecked Sendable {
    // @unchecked: the table is a static constant in the C library.
    let table: UnsafePointer<quiver_minilm_kernels>

    /// The variant this process uses.
    static let selected = Kernels(table: quiver_minilm_kernels_selected())

    /// The variant for an instruction-set level (`QUIVER_ISA_*`), or nil if this CPU cannot run it.
    init?(isa: Int) {
        guard let table = quiver_minilm_kernels_for_isa(Int32(isa)) else { return nil }
        self.table = table
    }

    private init(table: UnsafePointer<quiver_minilm_kernels>) { self.table = table }

    /// Every variant this CPU can run, baseline first.
    static var runnable: [Kernels] {
        [Int(QUIVER_ISA_BASELINE.rawValue), Int(QUIVER_ISA_AVX2.rawValue), Int(QUIVER_ISA_AVX512.rawValue)]
            .compactMap { Kernels(isa: $0) }
    }

    /// "skylake", "haswell", "baseline" or "neon".
    var name: String { String(cString: table.pointee.name) }

    /// Output columns per packed weight panel.
    var panelWidth: Int { table.pointee.panel_width }
}
