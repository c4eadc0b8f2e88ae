import TensorEngine

extension BenchmarkArea {
    /// The 2-64-64-2 tanh MLP of torch_ops.py's `mlp_*` rows, on a batch of 512.
    static let mlp = BenchmarkArea(
        name: "mlp",
        summary: "2-64-64-2 tanh MLP on a batch of 512: forward, and forward plus backward",
        run: runMLPBenchmarks)
}

private let mlpBatch = 512
private let mlpWidths = [2, 64, 64, 2]

/// Weights `[in, out]` and biases `[out]` of each layer, initialised like PyTorch's
/// `nn.Linear`: uniform in `±1/√in`.
private func makeMLPParameters(generator: inout RandomGenerator) -> [Tensor<Float>] {
    var parameters: [Tensor<Float>] = []
    for layer in 0..<(mlpWidths.count - 1) {
        let fanIn = mlpWidths[layer]
        let fanOut = mlpWidths[layer + 1]
        let bound = 1 / Float(fanIn).squareRoot()
        parameters.append(
            Tensor(randomUniform: [fanIn, fanOut], lower: -bound, upper: bound, generator: &generator))
        parameters.append(
            Tensor(randomUniform: [fanOut], lower: -bound, upper: bound, generator: &generator))
    }
    return parameters
}

/// `tanh(tanh(x W₁ + b₁) W₂ + b₂) W₃ + b₃`, each linear layer written as matmul plus bias.
private func mlpForward(_ x: Tensor<Float>, _ parameters: [Tensor<Float>]) -> Tensor<Float> {
    var h = x
    let layerCount = parameters.count / 2
    for layer in 0..<layerCount {
        h = matmul(h, parameters[2 * layer]) + parameters[2 * layer + 1]
        if layer < layerCount - 1 { h = h.tanh() }
    }
    return h
}

private func runMLPBenchmarks(_ context: BenchmarkContext) {
    var generator = RandomGenerator(seed: 0)
    let parameters = makeMLPParameters(generator: &generator).map { $0.requiringGradient() }
    let x = Tensor<Float>(randomNormal: [mlpBatch, mlpWidths[0]], generator: &generator)
    let plan = context.plan(sampleSeconds: 0.01, quickSampleSeconds: 0.002)

    if context.wants("mlp_forward") {
        let samples = withoutGradients {
            measure(plan) { blackHole(mlpForward(x, parameters)) }
        }
        var record = BenchmarkRecord(name: "mlp_forward", size: mlpBatch, samples: samples)
        record.add("ops_per_sample", .int(samples.loopCount))
        record.add("shape", .string("forward without recording of x [512, 2]"))
        context.report(record)
    }
    if context.wants("mlp_forward_backward") {
        let samples = measure(plan) {
            let output = mlpForward(x, parameters)
            let loss = (output * output).sum()
            blackHole(gradients(of: loss, withRespectTo: parameters))
        }
        var record = BenchmarkRecord(name: "mlp_forward_backward", size: mlpBatch, samples: samples)
        record.add("ops_per_sample", .int(samples.loopCount))
        record.add(
            "shape",
            .string("forward, loss = sum(output * output), gradients of all 6 weight and bias tensors"))
        context.report(record)
    }
}
