import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverMiniLM

@Suite(.enabled(if: SharedData.isAvailable, SharedData.absent),
       .enabled(if: TestSupport.modelAvailable, TestSupport.skipMessage))
struct EmbeddingTests {
    let model: MiniLM

    init() throws { model = try TestSupport.loadModel() }
    static let tolerance: Float = 1e-4

    @Test func referenceSentencesMatch() throws {
        let items = try TestSupport.sentences()
        let expected = try TestSupport.npy("reference_sentences.f32.npy")
        let vectors = try model.embed(items.map(\.text))
        var worst: Float = 0
        for i in items.indices {
            #expect(vectors[i].count == MiniLM.dimension)
            let d = TestSupport.maxAbsDiff(vectors[i], expected[i])
            worst = max(worst, d)
            #expect(d < Self.tolerance, "sentence \(i): max abs diff \(d)")
        }
        print("reference sentences: max abs diff \(worst)")
    }

    /// The reference sentences through every kernel variant this CPU can run (the other tests
    /// use the selected one), each with weights packed for it.
    @Test(arguments: Kernels.runnable.map(\.name))
    func everyKernelVariantMatchesReference(variant: String) throws {
        let kernels = Kernels.runnable.first { $0.name == variant }!
        let model = try MiniLM(modelDirectory: model.modelDirectory, kernels: kernels)
        let items = try TestSupport.sentences()
        let expected = try TestSupport.npy("reference_sentences.f32.npy")
        let vectors = try model.embed(items.map(\.text))
        let worst = items.indices.map { TestSupport.maxAbsDiff(vectors[$0], expected[$0]) }.max() ?? 0
        #expect(worst < Self.tolerance, "\(variant): max abs diff \(worst)")
        print("reference sentences, \(variant) kernels: max abs diff \(worst)")
    }

    @Test func faqChunksAndQueryMatch() throws {
        let (query, chunks) = try TestSupport.chunks()
        let expected = try TestSupport.npy("faq_chunks.f32.npy")
        let vectors = try model.embed(chunks.map(\.text))
        var worst: Float = 0
        for i in chunks.indices {
            let d = TestSupport.maxAbsDiff(vectors[i], expected[i])
            worst = max(worst, d)
            #expect(d < Self.tolerance, "chunk \(i): max abs diff \(d)")
        }
        let q = try model.embed([query.text])[0]
        let dq = TestSupport.maxAbsDiff(q, try TestSupport.npy("faq_query.f32.npy")[0])
        #expect(dq < Self.tolerance)
        print("faq chunks: max abs diff \(worst), query \(dq)")

        // The README's expected retrieval: top-3 are chunks 31, 42, 30.
        let scores = vectors.map { zip($0, q).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        let top = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(3)
        #expect(Array(top) == [31, 42, 30])
        #expect(abs(scores[31] - 0.6488) < 1e-3)
    }

    @Test func batchingThreadsAndOrderDoNotChangeVectors() throws {
        let items = try TestSupport.sentences().map(\.text)
        let batch = try model.embed(items, threads: 2)
        let serial = try model.embed(items, threads: 1)
        for i in items.indices {
            let single = try model.embed([items[i]], threads: 1)[0]
            #expect(TestSupport.maxAbsDiff(single, batch[i]) < 1e-5)
            #expect(TestSupport.maxAbsDiff(serial[i], batch[i]) < 1e-5)
        }
        let reversed = try model.embed(items.reversed())
        #expect(TestSupport.maxAbsDiff(reversed[0], batch[items.count - 1]) < 1e-5)
    }

    @Test func vectorsAreUnitLength() throws {
        for v in try model.embed(["", "a", String(repeating: "long text ", count: 300)]) {
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
        #expect(try model.embed([]).isEmpty)
    }

    @Test func rejectsBadTokenIDs() {
        #expect(throws: MiniLMError.self) { try model.embed(tokenIDs: [[101, 40000, 102]]) }
        #expect(throws: MiniLMError.self) { try model.embed(tokenIDs: [Array(repeating: 100, count: 300)]) }
        #expect(throws: MiniLMError.self) { try model.embed(["x"], threads: 0) }
    }
}
