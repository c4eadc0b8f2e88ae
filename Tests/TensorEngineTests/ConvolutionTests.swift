import TensorEngine
import Testing

/// One convolution setting, checked against direct loops.
struct ConvolutionConfiguration: CustomTestStringConvertible, Sendable {
    let name: String
    let inputShape: [Int]
    let filterShape: [Int]
    var strides = (1, 1)
    var paddings = (0, 0)
    var groups = 1

    var testDescription: String { name }
}

let convolutionConfigurations: [ConvolutionConfiguration] = [
    ConvolutionConfiguration(
        name: "3x3 padding 1", inputShape: [2, 3, 6, 5], filterShape: [4, 3, 3, 3],
        paddings: (1, 1)),
    ConvolutionConfiguration(
        name: "one image", inputShape: [1, 3, 6, 6], filterShape: [2, 3, 3, 3], paddings: (1, 1)),
    ConvolutionConfiguration(
        name: "one image without padding", inputShape: [1, 3, 6, 6], filterShape: [2, 3, 3, 3]),
    ConvolutionConfiguration(
        name: "rectangular kernel and strides", inputShape: [2, 2, 7, 8], filterShape: [3, 2, 2, 3],
        strides: (2, 3), paddings: (0, 1)),
    ConvolutionConfiguration(
        name: "two groups with uneven padding", inputShape: [2, 6, 5, 5], filterShape: [4, 3, 3, 3],
        strides: (1, 2), paddings: (2, 1), groups: 2),
    ConvolutionConfiguration(
        name: "depthwise", inputShape: [1, 4, 5, 5], filterShape: [4, 1, 3, 3], paddings: (1, 1),
        groups: 4),
    ConvolutionConfiguration(
        name: "pointwise on small images", inputShape: [3, 4, 5, 5], filterShape: [6, 4, 1, 1]),
    ConvolutionConfiguration(
        name: "pointwise with groups on small images", inputShape: [2, 4, 3, 3],
        filterShape: [6, 2, 1, 1], groups: 2),
    ConvolutionConfiguration(
        name: "pointwise per image", inputShape: [2, 4, 16, 16], filterShape: [3, 4, 1, 1]),
    ConvolutionConfiguration(
        name: "pointwise per image with groups", inputShape: [2, 4, 16, 16], filterShape: [6, 2, 1, 1],
        groups: 2),
    ConvolutionConfiguration(
        name: "kernel as large as the padded input", inputShape: [1, 2, 3, 3], filterShape: [2, 2, 5, 5],
        paddings: (1, 1)),
    ConvolutionConfiguration(
        name: "stride larger than the kernel", inputShape: [1, 1, 7, 7], filterShape: [2, 1, 2, 2],
        strides: (3, 3)),
    // 147,456 column values per image against a budget of 524,288 splits the batch in two.
    ConvolutionConfiguration(
        name: "batch split into chunks", inputShape: [6, 16, 32, 32], filterShape: [8, 16, 3, 3],
        paddings: (1, 1)),
    ConvolutionConfiguration(
        name: "empty batch", inputShape: [0, 3, 4, 4], filterShape: [2, 3, 3, 3], paddings: (1, 1)),
]

func configuration(named name: String) -> ConvolutionConfiguration {
    guard let found = convolutionConfigurations.first(where: { $0.name == name }) else {
        fatalError("no convolution configuration named \(name)")
    }
    return found
}

/// Cross-correlation and its two gradients by their definitions, one multiply-add at a time.
struct ReferenceConvolution {
    let configuration: ConvolutionConfiguration
    let outputShape: [Int]

    init(_ configuration: ConvolutionConfiguration) {
        self.configuration = configuration
        let input = configuration.inputShape
        let filter = configuration.filterShape
        let height = (input[2] + 2 * configuration.paddings.0 - filter[2]) / configuration.strides.0 + 1
        let width = (input[3] + 2 * configuration.paddings.1 - filter[3]) / configuration.strides.1 + 1
        outputShape = [input[0], filter[0], height, width]
    }

    /// Calls `body(inputIndex, filterIndex, outputIndex)` once per multiply-add of the
    /// convolution, skipping taps in the padding.
    func forEachTap(_ body: (Int, Int, Int) -> Void) {
        let c = configuration
        let (batch, channels, height, width) = (c.inputShape[0], c.inputShape[1], c.inputShape[2], c.inputShape[3])
        let (outputs, groupChannels, kernelHeight, kernelWidth) =
            (c.filterShape[0], c.filterShape[1], c.filterShape[2], c.filterShape[3])
        let outputsPerGroup = outputs / c.groups
        for n in 0..<batch {
            for o in 0..<outputs {
                let group = o / outputsPerGroup
                for oy in 0..<outputShape[2] {
                    for ox in 0..<outputShape[3] {
                        let outputIndex = ((n * outputs + o) * outputShape[2] + oy) * outputShape[3] + ox
                        for local in 0..<groupChannels {
                            let channel = group * groupChannels + local
                            for ki in 0..<kernelHeight {
                                let y = oy * c.strides.0 - c.paddings.0 + ki
                                if y < 0 || y >= height { continue }
                                for kj in 0..<kernelWidth {
                                    let x = ox * c.strides.1 - c.paddings.1 + kj
                                    if x < 0 || x >= width { continue }
                                    let inputIndex = ((n * channels + channel) * height + y) * width + x
                                    let filterIndex = ((o * groupChannels + local) * kernelHeight + ki) * kernelWidth + kj
                                    body(inputIndex, filterIndex, outputIndex)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    func output(input: [Double], filter: [Double]) -> [Double] {
        var result = [Double](repeating: 0, count: outputShape.reduce(1, *))
        forEachTap { i, f, o in result[o] += input[i] * filter[f] }
        return result
    }

    func inputGradient(cotangent: [Double], filter: [Double]) -> [Double] {
        var result = [Double](repeating: 0, count: configuration.inputShape.reduce(1, *))
        forEachTap { i, f, o in result[i] += cotangent[o] * filter[f] }
        return result
    }

    func filterGradient(cotangent: [Double], input: [Double]) -> [Double] {
        var result = [Double](repeating: 0, count: configuration.filterShape.reduce(1, *))
        forEachTap { i, f, o in result[f] += cotangent[o] * input[i] }
        return result
    }
}

/// Returns the largest `|a − b| / (1 + |b|)` over corresponding elements.
func largestScaledDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
    var largest = 0.0
    for (x, y) in zip(a, b) { largest = max(largest, abs(x - y) / (1 + abs(y))) }
    return largest
}

func convolve<Scalar>(
    _ input: Tensor<Scalar>, _ filter: Tensor<Scalar>, _ c: ConvolutionConfiguration
) -> Tensor<Scalar> {
    conv2d(input, filter: filter, strides: c.strides, paddings: c.paddings, groups: c.groups)
}

@Suite("Convolution")
struct ConvolutionTests {
    @Test("3x3 box filter with padding sums each neighbourhood")
    func boxFilter() {
        let input = Tensor<Double>(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let output = conv2d(input, filter: Tensor(ones: [1, 1, 3, 3]), padding: 1)
        #expect(output.shape == [1, 1, 3, 3])
        #expect(output.scalars == [12, 21, 16, 27, 45, 33, 24, 39, 28])
    }

    @Test("difference filter correlates without flipping")
    func differenceFilter() {
        // Cross-correlation: out[i, j] = x[i, j] − x[i + 1, j + 1], as PyTorch's conv2d.
        let input = Tensor<Float>(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 10])
        let filter = Tensor<Float>(shape: [1, 1, 2, 2], scalars: [1, 0, 0, -1])
        let output = conv2d(input, filter: filter)
        #expect(output.shape == [1, 1, 2, 2])
        #expect(output.scalars == [-4, -4, -4, -5])
    }

    @Test("stride 2 and two output channels")
    func strideAndChannels() {
        // Rows of the 4×4 input are 0..3, 4..7, 8..11, 12..15; windows start at (0, 0), (0, 2),
        // (2, 0) and (2, 2). Channel 0 picks the top-left value, channel 1 sums the window.
        let input = Tensor<Double>(shape: [1, 1, 4, 4], scalars: (0..<16).map(Double.init))
        let filter = Tensor<Double>(shape: [2, 1, 2, 2], scalars: [1, 0, 0, 0, 1, 1, 1, 1])
        let output = conv2d(input, filter: filter, stride: 2)
        #expect(output.shape == [1, 2, 2, 2])
        #expect(output.scalars == [0, 2, 8, 10, 10, 18, 42, 50])
    }

    @Test("forward and gradients match direct loops", arguments: convolutionConfigurations)
    func matchesReference(_ c: ConvolutionConfiguration) {
        var generator = RandomGenerator(seed: 21)
        let reference = ReferenceConvolution(c)
        let input = Tensor<Double>(randomNormal: c.inputShape, generator: &generator)
        let filter = Tensor<Double>(randomNormal: c.filterShape, generator: &generator)
        let cotangent = Tensor<Double>(randomNormal: reference.outputShape, generator: &generator)

        let output = convolve(input, filter, c)
        #expect(output.shape == reference.outputShape)
        let expected = reference.output(input: input.scalars, filter: filter.scalars)
        #expect(largestScaledDifference(output.doubles, expected) < 1e-12)

        let x = input.requiringGradient()
        let w = filter.requiringGradient()
        let grads = gradients(of: convolve(x, w, c), withRespectTo: [x, w], seed: cotangent)
        let expectedInput = reference.inputGradient(cotangent: cotangent.scalars, filter: filter.scalars)
        let expectedFilter = reference.filterGradient(cotangent: cotangent.scalars, input: input.scalars)
        #expect(largestScaledDifference(grads[0].doubles, expectedInput) < 1e-12)
        #expect(largestScaledDifference(grads[1].doubles, expectedFilter) < 1e-12)
    }

    @Test("Float forward agrees with Double loops", arguments: convolutionConfigurations.prefix(10))
    func floatMatchesReference(_ c: ConvolutionConfiguration) {
        var generator = RandomGenerator(seed: 22)
        let input = Tensor<Double>(randomNormal: c.inputShape, generator: &generator)
        let filter = Tensor<Double>(randomNormal: c.filterShape, generator: &generator)
        let output = convolve(input.converted(to: Float.self), filter.converted(to: Float.self), c)
        let expected = ReferenceConvolution(c).output(input: input.scalars, filter: filter.scalars)
        // Float rounding over at most 27 products of unit-variance values.
        #expect(largestScaledDifference(output.doubles, expected) < 1e-5)
    }

    @Test("gradients agree with and without a recorded backward pass")
    func fusedAndRecordedBackward() {
        // Without createGraph both gradients come from one fused pass; with it, from the two
        // recorded gradient operations.
        var generator = RandomGenerator(seed: 23)
        let c = configuration(named: "two groups with uneven padding")
        let x = Tensor<Double>(randomNormal: c.inputShape, generator: &generator).requiringGradient()
        let w = Tensor<Double>(randomNormal: c.filterShape, generator: &generator).requiringGradient()
        let y = convolve(x, w, c)
        let seed = Tensor<Double>(randomNormal: y.shape, generator: &generator)
        let fused = gradients(of: y, withRespectTo: [x, w], seed: seed)
        let recorded = gradients(of: y, withRespectTo: [x, w], seed: seed, createGraph: true)
        #expect(recorded[0].requiresGradient)
        #expect(largestScaledDifference(fused[0].doubles, recorded[0].doubles) < 1e-13)
        #expect(largestScaledDifference(fused[1].doubles, recorded[1].doubles) < 1e-13)
    }

    @Test("gradient for the filter alone matches the fused pass")
    func filterGradientAlone() {
        var generator = RandomGenerator(seed: 24)
        let c = configuration(named: "3x3 padding 1")
        let input = Tensor<Double>(randomNormal: c.inputShape, generator: &generator)
        let w = Tensor<Double>(randomNormal: c.filterShape, generator: &generator).requiringGradient()
        let seed = Tensor<Double>(randomNormal: ReferenceConvolution(c).outputShape, generator: &generator)
        let alone = gradients(of: convolve(input, w, c), withRespectTo: [w], seed: seed)[0]
        let expected = ReferenceConvolution(c).filterGradient(cotangent: seed.scalars, input: input.scalars)
        #expect(largestScaledDifference(alone.doubles, expected) < 1e-12)
    }

    @Test("concurrent calls give the serial results")
    func concurrentCalls() async {
        // Each call borrows scratch buffers from a shared pool; results must not mix.
        let c = configuration(named: "batch split into chunks")
        let inputs = (0..<4).map { seed -> Tensor<Float> in
            var generator = RandomGenerator(seed: UInt64(30 + seed))
            return Tensor(randomNormal: c.inputShape, generator: &generator)
        }
        var generator = RandomGenerator(seed: 29)
        let filter = Tensor<Float>(randomNormal: c.filterShape, generator: &generator)
        let serial = inputs.map { convolve($0, filter, c).scalars }
        let concurrent = await withTaskGroup(of: (Int, [Float]).self) { group in
            for (index, input) in inputs.enumerated() {
                let values = input.scalars
                let filterValues = filter.scalars
                group.addTask {
                    let x = Tensor<Float>(shape: c.inputShape, scalars: values)
                    let w = Tensor<Float>(shape: c.filterShape, scalars: filterValues)
                    return (index, convolve(x, w, c).scalars)
                }
            }
            var results = [[Float]](repeating: [], count: inputs.count)
            for await (index, values) in group { results[index] = values }
            return results
        }
        for index in inputs.indices {
            #expect(concurrent[index] == serial[index], "input \(index)")
        }
    }

    // MARK: - Misuse

    @Test("channels not divisible by groups stop the program")
    func groupsDoNotDivideChannels() async {
        await #expect(processExitsWith: .failure) {
            _ = conv2d(Tensor<Float>(zeros: [1, 3, 4, 4]), filter: Tensor(zeros: [2, 1, 3, 3]), groups: 2)
        }
    }

    @Test("output channels not divisible by groups stop the program")
    func groupsDoNotDivideOutputs() async {
        await #expect(processExitsWith: .failure) {
            _ = conv2d(Tensor<Float>(zeros: [1, 4, 4, 4]), filter: Tensor(zeros: [3, 2, 3, 3]), groups: 2)
        }
    }

    @Test("filter channels that differ from the input stop the program")
    func filterChannelMismatch() async {
        await #expect(processExitsWith: .failure) {
            _ = conv2d(Tensor<Float>(zeros: [1, 3, 4, 4]), filter: Tensor(zeros: [2, 4, 3, 3]))
        }
    }

    @Test("kernel larger than the padded input stops the program")
    func kernelTooLarge() async {
        await #expect(processExitsWith: .failure) {
            _ = conv2d(Tensor<Float>(zeros: [1, 1, 3, 3]), filter: Tensor(zeros: [1, 1, 5, 5]))
        }
    }

    @Test("input of rank 3 stops the program")
    func inputRank() async {
        await #expect(processExitsWith: .failure) {
            _ = conv2d(Tensor<Float>(zeros: [3, 4, 4]), filter: Tensor(zeros: [2, 3, 3, 3]))
        }
    }

    @Test("filter of rank 2 stops the program")
    func filterRank() async {
        await #expect(processExitsWith: .failure) {
            _ = conv2d(Tensor<Float>(zeros: [1, 3, 4, 4]), filter: Tensor(zeros: [2, 3]))
        }
    }

    @Test("zero stride stops the program")
    func zeroStride() async {
        await #expect(processExitsWith: .failure) {
            _ = conv2d(Tensor<Float>(zeros: [1, 1, 4, 4]), filter: Tensor(zeros: [1, 1, 3, 3]), stride: 0)
        }
    }
}
