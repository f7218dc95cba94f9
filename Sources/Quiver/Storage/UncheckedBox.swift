/// Carries a value that is not `Sendable` (a buffer pointer) into a concurrent closure.
///
/// Only for memory whose lifetime outlives the concurrent work and whose writers touch
/// disjoint elements (each worker its own indices), which every use site states.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
