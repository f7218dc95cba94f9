import Foundation
internal import CQuiverKernels

/// The all-MiniLM-L6-v2 forward pass: BERT embeddings, 6 post-LayerNorm encoder layers, mean
/// pooling over the real tokens and L2 normalisation.
///
/// Activations are packed without padding (see ``Attention``); one ``forward(_:threads:)`` call
/// holds about 15 KiB per token, so callers cap the tokens per call (``MiniLM`` uses
/// ``maxTokensPerPass``).
final class BertEncoder: @unchecked Sendable {
    // @unchecked: all stored state is written in init and only read afterwards.
    struct Config {
        var vocabSize = 30522
        var hidden = 384
        var layers = 6
        var intermediate = 1536
        var maxPositions = 512
        var typeVocab = 2
        var eps: Float = 1e-12
    }

    struct Layer {
        let qkv: Linear          // [3·hidden, hidden]: query, key, value stacked
        let attentionOutput: Linear
        let attentionNorm: (gamma: [Float], beta: [Float])
        let intermediate: Linear
        let output: Linear
        let outputNorm: (gamma: [Float], beta: [Float])
    }

    let config: Config
    let wordEmbeddings: [Float]
    let positionEmbeddings: [Float]
    let tokenType0: [Float]
    let embeddingNorm: (gamma: [Float], beta: [Float])
    let layers: [Layer]
    /// The kernels every layer's weights are packed for.
    let kernels: Kernels
    static let maxTokensPerPass = 4096

    /// Copies and packs every tensor out of `file`; the file can be closed afterwards.
    ///
    /// - Throws: `.corruption` if a tensor is missing or has an unexpected dtype or shape.
    init(file: SafeTensorsFile, config: Config = Config(), kernels: Kernels = .selected) throws {
        self.config = config
        self.kernels = kernels
        let h = config.hidden, f = config.intermediate
        wordEmbeddings = try file.floats("embeddings.word_embeddings.weight", shape: [config.vocabSize, h])
        positionEmbeddings = try file.floats("embeddings.position_embeddings.weight", shape: [config.maxPositions, h])
        tokenType0 = Array(try file.floats("embeddings.token_type_embeddings.weight", shape: [config.typeVocab, h])[0..<h])
        embeddingNorm = (try file.floats("embeddings.LayerNorm.weight", shape: [h]),
                         try file.floats("embeddings.LayerNorm.bias", shape: [h]))
        func linear(_ name: String, out: Int, in k: Int) throws -> Linear {
            try file.withFloats(name + ".weight", shape: [out, k]) { w in
                try file.withFloats(name + ".bias", shape: [out]) { b in
                    Linear(weight: w, bias: b, outFeatures: out, inFeatures: k, kernels: kernels)
                }
            }
        }
        func norm(_ name: String) throws -> (gamma: [Float], beta: [Float]) {
            (try file.floats(name + ".weight", shape: [h]), try file.floats(name + ".bias", shape: [h]))
        }
        var layers: [Layer] = []
        for l in 0..<config.layers {
            let p = "encoder.layer.\(l)."
            var w: [Float] = []
            var b: [Float] = []
            for part in ["query", "key", "value"] {
                w += try file.floats(p + "attention.self.\(part).weight", shape: [h, h])
                b += try file.floats(p + "attention.self.\(part).bias", shape: [h])
            }
            let qkv = w.withUnsafeBufferPointer { wp in
                b.withUnsafeBufferPointer { bp in Linear(weight: wp, bias: bp, outFeatures: 3 * h, inFeatures: h, kernels: kernels) }
            }
            layers.append(Layer(
                qkv: qkv,
                attentionOutput: try linear(p + "attention.output.dense", out: h, in: h),
                attentionNorm: try norm(p + "attention.output.LayerNorm"),
                intermediate: try linear(p + "intermediate.dense", out: f, in: h),
                output: try linear(p + "output.dense", out: h, in: f),
                outputNorm: try norm(p + "output.LayerNorm")))
        }
        self.layers = layers
    }

    /// Embeds already-tokenized sequences (each with `[CLS]`/`[SEP]`, at most 512 tokens).
    /// Returns one L2-normalised `hidden`-dimensional vector per sequence, in order.
    func forward(_ sequences: [[Int32]], threads: Int) -> [[Float]] {
        let h = config.hidden, f = config.intermediate
        let lengths = sequences.map(\.count)
        var offsets: [Int] = []
        var total = 0
        for n in lengths { offsets.append(total); total += n }
        if total == 0 { return sequences.map { _ in [Float](repeating: 0, count: h) } }

        func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
            UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64).bindMemory(to: Float.self, capacity: n)
        }
        var x = alloc(total * h)
        var tmp = alloc(total * h)
        let ctx = alloc(total * h)
        let qkv = alloc(total * 3 * h)
        let inter = alloc(total * f)
        defer { x.deallocate(); tmp.deallocate(); ctx.deallocate(); qkv.deallocate(); inter.deallocate() }

        // Embeddings: word + position + token type 0, then LayerNorm.
        wordEmbeddings.withUnsafeBufferPointer { word in
            positionEmbeddings.withUnsafeBufferPointer { pos in
                tokenType0.withUnsafeBufferPointer { type0 in
                    for (s, seq) in sequences.enumerated() {
                        seq.withUnsafeBufferPointer { ids in
                            quiver_minilm_embed_tokens(ids.baseAddress, ids.count, word.baseAddress!, pos.baseAddress!,
                                                       type0.baseAddress!, h, x + offsets[s] * h)
                        }
                    }
                }
            }
        }
        layerNorm(x, rows: total, embeddingNorm, threads: threads)

        for layer in layers {
            GEMM.run(x, rows: total, layer.qkv, into: qkv, threads: threads)
            Attention.run(qkv: qkv, offsets: offsets, lengths: lengths, out: ctx, hidden: h, threads: threads, kernels: kernels)
            GEMM.run(ctx, rows: total, layer.attentionOutput, into: tmp, epilogue: .residual(x), threads: threads)
            layerNorm(tmp, rows: total, layer.attentionNorm, threads: threads)
            swap(&x, &tmp)
            GEMM.run(x, rows: total, layer.intermediate, into: inter, epilogue: .gelu, threads: threads)
            GEMM.run(inter, rows: total, layer.output, into: tmp, epilogue: .residual(x), threads: threads)
            layerNorm(tmp, rows: total, layer.outputNorm, threads: threads)
            swap(&x, &tmp)
        }

        // Mean pooling over each sequence's tokens, then L2 normalisation.
        return sequences.indices.map { s in
            [Float](unsafeUninitializedCapacity: h) { v, count in
                quiver_minilm_mean_pool(x + offsets[s] * h, lengths[s], h, v.baseAddress!)
                count = h
            }
        }
    }

    /// In-place LayerNorm of each `hidden`-wide row: `(x - mean) / sqrt(var + eps) * gamma + beta`.
    func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, _ params: (gamma: [Float], beta: [Float]), threads: Int) {
        let h = config.hidden, eps = config.eps
        let chunk = 64
        let norm = kernels.table.pointee.layer_norm!
        params.gamma.withUnsafeBufferPointer { g in
            params.beta.withUnsafeBufferPointer { b in
                Parallel.forEach((rows + chunk - 1) / chunk, threads: threads) { c in
                    let r0 = c * chunk
                    norm(x + r0 * h, min(chunk, rows - r0), h, g.baseAddress!, b.baseAddress!, eps)
                }
            }
        }
    }
}
