import TensorEngine

extension BenchmarkArea {
    /// Per-operation overhead on tiny tensors, paired with `op_*` rows of torch_ops.py.
    static let ops = BenchmarkArea(
        name: "ops",
        summary: "time per op on 64-element vectors and 8x8 matrices, with and without recording",
        run: runOpsBenchmarks)
}

/// Length of the vectors in the elementwise and reduction cases.
private let elementwiseSize = 64
/// Side of the square matrices in the matmul case.
private let tinyMatmulSize = 8

private struct OpCase: Sendable {
    let name: String
    let size: Int
    let shape: String
    let body: @Sendable (Tensor<Float>, Tensor<Float>, Tensor<Float>, Tensor<Float>) -> Tensor<Float>
}

private let opCases: [OpCase] = [
    OpCase(name: "op_add", size: elementwiseSize, shape: "a + b, a and b of shape [64]") {
        a, b, _, _ in a + b
    },
    OpCase(name: "op_mul", size: elementwiseSize, shape: "a * b, a and b of shape [64]") {
        a, b, _, _ in a * b
    },
    OpCase(name: "op_tanh", size: elementwiseSize, shape: "a.tanh(), a of shape [64]") {
        a, _, _, _ in a.tanh()
    },
    OpCase(name: "op_exp", size: elementwiseSize, shape: "a.exp(), a of shape [64]") {
        a, _, _, _ in a.exp()
    },
    OpCase(name: "op_sum", size: elementwiseSize, shape: "a.sum() to a scalar, a of shape [64]") {
        a, _, _, _ in a.sum()
    },
    OpCase(name: "op_matmul", size: tinyMatmulSize, shape: "matmul of [8, 8] by [8, 8]") {
        _, _, m1, m2 in matmul(m1, m2)
    },
]

private func runOpsBenchmarks(_ context: BenchmarkContext) {
    var generator = RandomGenerator(seed: 0)
    let a = Tensor<Float>(randomNormal: [elementwiseSize], generator: &generator)
    let b = Tensor<Float>(randomNormal: [elementwiseSize], generator: &generator)
    let m1 = Tensor<Float>(randomNormal: [tinyMatmulSize, tinyMatmulSize], generator: &generator)
    let m2 = Tensor<Float>(randomNormal: [tinyMatmulSize, tinyMatmulSize], generator: &generator)
    // The same values as leaves that require gradients, so that every result is recorded.
    let leaves = [a, b, m1, m2].map { $0.detached().requiringGradient() }
    let plan = context.plan(sampleSeconds: 0.01, quickSampleSeconds: 0.002)

    for recording in [false, true] {
        for operation in opCases {
            let name = recording ? operation.name + "_recorded" : operation.name
            guard context.wants(name) else { continue }
            let samples: TimingSamples
            if recording {
                let (x, y, p, q) = (leaves[0], leaves[1], leaves[2], leaves[3])
                samples = measure(plan) { blackHole(operation.body(x, y, p, q)) }
            } else {
                samples = withoutGradients {
                    measure(plan) { blackHole(operation.body(a, b, m1, m2)) }
                }
            }
            var record = BenchmarkRecord(name: name, size: operation.size, samples: samples)
            record.add("median_us", .double(samples.median * 1e6))
            record.add("p90_us", .double(samples.p90 * 1e6))
            record.add("ops_per_sample", .int(samples.loopCount))
            record.add("shape", .string(operation.shape))
            record.add("recording", .bool(recording))
            context.report(record)
        }
    }
}
