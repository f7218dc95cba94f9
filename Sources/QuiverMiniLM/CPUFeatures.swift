import Foundation

/// Which GEMM kernel this CPU can run.
///
/// The AVX-512 kernel (`QuiverMiniLMKernels.WideGEMM`) is used only when the CPU and OS report
/// `avx512f` (Linux: the `flags` line of `/proc/cpuinfo`, which the kernel clears when the OS
/// does not save the AVX-512 state). `QUIVER_MINILM_KERNEL=avx2` forces the 8-lane kernels.
enum CPUFeatures {
    static let hasAVX512F: Bool = {
        #if arch(x86_64) && os(Linux)
        if ProcessInfo.processInfo.environment["QUIVER_MINILM_KERNEL"] == "avx2" { return false }
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return false }
        return flags.split(separator: " ").contains("avx512f")
        #else
        return false
        #endif
    }()

    /// Panel width for ``Linear``: 32 with AVX-512, else 16.
    static var panelWidth: Int { hasAVX512F ? 32 : Linear.panelWidth }
}
