import TensorEngine

extension BenchmarkArea {
    /// The 3×3 convolution of torch_ops.py's `conv3x3_*` rows.
    static let conv = BenchmarkArea(
        name: "conv",
        summary: "3x3 convolution, 64 to 64 channels, padding 1, on [128, 64, 6, 6]: forward, and forward plus backward",
        run: runConvBenchmarks)
}

private let convInputShape = [128, 64, 6, 6]
private let convOutputChannels = 64

private func runConvBenchmarks(_ context: BenchmarkContext) {
    var generator = RandomGenerator(seed: 0)
    let (batch, channels, height, width) =
        (convInputShape[0], convInputShape[1], convInputShape[2], convInputShape[3])
    let input = Tensor<Float>(randomNormal: convInputShape, generator: &generator)
    let fanIn = Float(channels * 3 * 3)
    let filter = Tensor<Float>(
        randomNormal: [convOutputChannels, channels, 3, 3], standardDeviation: 1 / fanIn.squareRoot(),
        generator: &generator)
    // Multiply-adds of one forward pass, counted as 2 FLOPs each.
    let forwardFlops = 2.0 * Double(batch * height * width * convOutputChannels * channels * 9)
    let plan = context.plan(sampleSeconds: 0.02, quickSampleSeconds: 0.005)
    let shapeDescription = "input [128, 64, 6, 6], filter [64, 64, 3, 3], padding 1, no bias"

    if context.wants("conv3x3_forward") {
        let samples = withoutGradients {
            measure(plan) { blackHole(conv2d(input, filter: filter, padding: 1)) }
        }
        report(
            context, "conv3x3_forward", batch, samples, flops: forwardFlops,
            shape: shapeDescription + "; forward without recording")
    }
    if context.wants("conv3x3_forward_backward") {
        let inputLeaf = input.detached().requiringGradient()
        let filterLeaf = filter.detached().requiringGradient()
        let samples = measure(plan) {
            let output = conv2d(inputLeaf, filter: filterLeaf, padding: 1)
            blackHole(gradients(of: output.sum(), withRespectTo: [inputLeaf, filterLeaf]))
        }
        // The backward pass is two more convolutions of the forward's cost: the gradients
        // for the input and for the filter.
        report(
            context, "conv3x3_forward_backward", batch, samples, flops: 3 * forwardFlops,
            shape: shapeDescription + "; forward, loss = sum(output), gradients for input and filter")
    }
}

private func report(
    _ context: BenchmarkContext, _ name: String, _ size: Int, _ samples: TimingSamples,
    flops: Double, shape: String
) {
    var record = BenchmarkRecord(name: name, size: size, samples: samples)
    let gflops = flops / samples.median / 1e9
    record.add("gflops", .double(gflops))
    record.add("ops_per_sample", .int(samples.loopCount))
    record.add("shape", .string(shape))
    record.note = formatSignificant(gflops, digits: 3) + " GFLOP/s"
    context.report(record)
}
