import Foundation
import NeuralNetworks
import TensorEngine
import Testing
import TestSupport

/// True when every value of `actual` is within `tolerance` of `expected`.
func isClose(_ actual: [Double], _ expected: [Double], tolerance: Double = 1e-12) -> Bool {
    actual.count == expected.count && zip(actual, expected).allSatisfy { abs($0 - $1) <= tolerance }
}

@Suite("Layers")
struct LayerTests {
    // MARK: - Linear

    @Test("linear computes x Wᵀ + b")
    func linearValues() {
        let layer = Linear<Double>(
            weight: Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]), bias: Tensor([0.5, -1, 2]))
        let output = layer(Tensor(shape: [2, 2], scalars: [1, -1, 0, 2]))
        #expect(output.shape == [2, 3])
        // Row 1: [1 - 2 + 0.5, 3 - 4 - 1, 5 - 6 + 2]; row 2: [4 + 0.5, 8 - 1, 12 + 2].
        #expect(output.scalars == [-0.5, -2, 1, 4.5, 7, 14])
    }

    @Test("linear keeps leading batch dimensions")
    func linearShapes() {
        var generator = RandomGenerator(seed: 1)
        let layer = Linear<Float>(inputSize: 4, outputSize: 3, generator: &generator)
        #expect(layer(Tensor(zeros: [4])).shape == [3])
        #expect(layer(Tensor(zeros: [5, 4])).shape == [5, 3])
        #expect(layer(Tensor(zeros: [2, 5, 4])).shape == [2, 5, 3])
        let noBias = Linear<Float>(inputSize: 4, outputSize: 3, bias: false, generator: &generator)
        #expect(noBias.bias == nil)
        #expect(noBias.namedParameters.map(\.name) == ["weight"])
        #expect(noBias(Tensor(zeros: [2, 4])).scalars == [0, 0, 0, 0, 0, 0])
    }

    @Test("linear rank-3 input matches row-by-row application")
    func linearBatchConsistency() {
        var generator = RandomGenerator(seed: 2)
        let layer = Linear<Double>(inputSize: 3, outputSize: 2, generator: &generator)
        let input = Tensor<Double>(randomNormal: [2, 2, 3], generator: &generator)
        let batched = layer(input).scalars
        let rows = layer(input.reshaped(to: [4, 3])).scalars
        #expect(batched == rows)
    }

    @Test("linear gradients match finite differences")
    func linearGradients() {
        let result = checkGradients(
            of: { inputs in Linear(weight: inputs[1], bias: inputs[2])(inputs[0]).tanh() },
            at: randomInputs([[4, 3], [2, 3], [2]], seed: 3))
        #expect(result.passed, "\(result)")
    }

    @Test("linear second derivatives match finite differences")
    func linearSecondGradients() {
        let result = checkSecondGradients(
            of: { inputs in Linear(weight: inputs[1], bias: inputs[2])(inputs[0]).tanh() },
            at: randomInputs([[3, 2], [2, 2], [2]], seed: 31))
        #expect(result.passed, "\(result)")
    }

    @Test("linear rejects an input of the wrong size")
    func linearWrongInputSize() async {
        await #expect(processExitsWith: .failure) {
            var generator = RandomGenerator(seed: 1)
            let layer = Linear<Float>(inputSize: 4, outputSize: 3, generator: &generator)
            _ = layer(Tensor(zeros: [2, 5]))
        }
    }

    // MARK: - Conv2d

    @Test("conv2d cross-correlates and adds the bias")
    func convolutionValues() {
        let layer = Conv2d<Double>(
            weight: Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4]), bias: Tensor([10]))
        let input = Tensor<Double>(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let output = layer(input)
        #expect(output.shape == [1, 1, 2, 2])
        // Top-left: 1·1 + 2·2 + 3·4 + 4·5 + 10 = 47; each step right adds 10, down adds 30.
        #expect(output.scalars == [47, 57, 77, 87])
    }

    @Test("conv2d applies stride and zero padding")
    func convolutionStridePadding() {
        let layer = Conv2d<Double>(
            weight: Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4]), bias: Tensor([10]),
            strides: (2, 2), paddings: (1, 1))
        let input = Tensor<Double>(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let output = layer(input)
        // Padded 5×5 input, windows at rows/columns 0 and 2: (5 − 2) / 2 + 1 = 2 per axis.
        #expect(output.shape == [1, 1, 2, 2])
        // Windows [[0,0],[0,1]], [[0,0],[2,3]], [[0,4],[0,7]], [[5,6],[8,9]].
        #expect(output.scalars == [14, 28, 46, 87])
    }

    @Test("conv2d groups keep channels apart")
    func convolutionGroups() {
        let layer = Conv2d<Double>(
            weight: Tensor(shape: [2, 1, 1, 1], scalars: [2, 3]), bias: nil, groups: 2)
        let input = Tensor<Double>(shape: [1, 2, 1, 2], scalars: [1, 2, 5, 7])
        #expect(layer(input).scalars == [2, 4, 15, 21])
        #expect(layer.inputChannels == 2)
        #expect(layer.namedParameters.map(\.name) == ["weight"])
    }

    @Test("conv2d output shape follows the size formula")
    func convolutionShape() {
        var generator = RandomGenerator(seed: 4)
        let layer = Conv2d<Float>(
            inputChannels: 4, outputChannels: 6, kernelSize: 3, stride: 2, padding: 1, groups: 2,
            generator: &generator)
        #expect(layer.weight.shape == [6, 2, 3, 3])
        // (28 + 2 − 3) / 2 + 1 = 14 and (9 + 2 − 3) / 2 + 1 = 5.
        #expect(layer(Tensor(zeros: [3, 4, 28, 9])).shape == [3, 6, 14, 5])
    }

    @Test("conv2d gradients match finite differences")
    func convolutionGradients() {
        let result = checkGradients(
            of: { inputs in
                Conv2d(weight: inputs[1], bias: inputs[2], strides: (2, 1), paddings: (1, 0), groups: 2)(inputs[0])
            },
            at: randomInputs([[2, 4, 5, 4], [4, 2, 3, 2], [4]], seed: 5))
        #expect(result.passed, "\(result)")
    }

    @Test("conv2d second derivatives match finite differences")
    func convolutionSecondGradients() {
        let result = checkSecondGradients(
            of: { inputs in
                Conv2d(weight: inputs[1], bias: inputs[2], paddings: (1, 1))(inputs[0]).softplus()
            },
            at: randomInputs([[1, 2, 3, 3], [2, 2, 2, 2], [2]], seed: 32))
        #expect(result.passed, "\(result)")
    }

    // MARK: - Normalization

    @Test("group norm normalises each group then applies the affine map")
    func groupNormValues() {
        let layer = GroupNorm<Double>(groupCount: 2, channelCount: 4, epsilon: 0)
        layer.weight = Tensor([1, 2, 3, 4])
        layer.bias = Tensor([0, 0, 0, 1])
        // Groups {1, 2} and {3, 4}: means 1.5 and 3.5, variance 0.25, normalised ±1.
        let output = layer(Tensor(shape: [1, 4, 1, 1], scalars: [1, 2, 3, 4]))
        #expect(output.shape == [1, 4, 1, 1])
        #expect(isClose(output.scalars, [-1, 2, -3, 5]))
    }

    @Test("group norm starts with weight 1 and bias 0")
    func groupNormInitialization() {
        let layer = GroupNorm<Float>(groupCount: 2, channelCount: 6)
        #expect(layer.weight?.scalars == [1, 1, 1, 1, 1, 1])
        #expect(layer.bias?.scalars == [0, 0, 0, 0, 0, 0])
        let plain = GroupNorm<Float>(groupCount: 3, channelCount: 6, affine: false)
        #expect(plain.namedParameters.isEmpty)
    }

    @Test("group norm gradients match finite differences")
    func groupNormGradients() {
        let result = checkGradients(
            of: { inputs in
                let layer = GroupNorm<Double>(groupCount: 2, channelCount: 4)
                layer.weight = inputs[1]
                layer.bias = inputs[2]
                return layer(inputs[0])
            },
            at: randomInputs([[2, 4, 3, 2], [4], [4]], seed: 6))
        #expect(result.passed, "\(result)")
    }

    @Test("group norm second derivatives match finite differences")
    func groupNormSecondGradients() {
        let result = checkSecondGradients(
            of: { inputs in
                let layer = GroupNorm<Double>(groupCount: 1, channelCount: 2)
                layer.weight = inputs[1]
                return layer(inputs[0]).tanh()
            },
            at: randomInputs([[2, 2, 2], [2]], seed: 33))
        #expect(result.passed, "\(result)")
    }

    @Test("batch norm in training uses batch statistics and updates running ones")
    func batchNormTraining() throws {
        let layer = BatchNorm<Double>(featureCount: 2, epsilon: 0)
        // Feature 0: 1, 2, 3, 4 (mean 2.5, biased variance 1.25); feature 1: 0, 0, 4, 4
        // (mean 2, biased variance 4).
        let input = Tensor<Double>(shape: [4, 2], scalars: [1, 0, 2, 0, 3, 4, 4, 4])
        let output = layer(input)
        let s = 1.25.squareRoot()
        #expect(isClose(output.scalars, [-1.5 / s, -1, -0.5 / s, -1, 0.5 / s, 1, 1.5 / s, 1]))
        // running = 0.9 · initial + 0.1 · batch, with the unbiased variance (n / (n − 1) = 4/3).
        let mean = try #require(layer.runningMean)
        let variance = try #require(layer.runningVariance)
        #expect(isClose(mean.scalars, [0.25, 0.2], tolerance: 1e-15))
        #expect(isClose(variance.scalars, [0.9 + 0.1 * 1.25 * 4 / 3, 0.9 + 0.1 * 4 * 4 / 3], tolerance: 1e-15))
    }

    @Test("batch norm in evaluation uses running statistics")
    func batchNormEvaluation() throws {
        let layer = BatchNorm<Double>(featureCount: 2, epsilon: 0)
        _ = layer(Tensor(shape: [4, 2], scalars: [1, 0, 2, 0, 3, 4, 4, 4]))
        layer.setTraining(false)
        let mean = try #require(layer.runningMean).scalars
        let variance = try #require(layer.runningVariance).scalars
        let output = layer(Tensor(shape: [1, 2], scalars: [1, 1]))
        #expect(isClose(output.scalars, [(1 - mean[0]) / variance[0].squareRoot(), (1 - mean[1]) / variance[1].squareRoot()]))
        // Evaluation leaves the running statistics alone.
        #expect(try #require(layer.runningMean).scalars == mean)
    }

    @Test("batch norm 2-d normalises each channel over batch and positions")
    func batchNorm2d() {
        let layer = BatchNorm<Double>(featureCount: 1, epsilon: 0)
        layer.weight = Tensor([2])
        layer.bias = Tensor([1])
        let output = layer(Tensor(shape: [2, 1, 1, 2], scalars: [1, 2, 3, 4]))
        #expect(output.shape == [2, 1, 1, 2])
        let s = 1.25.squareRoot()
        #expect(isClose(output.scalars, [1 - 3 / s, 1 - 1 / s, 1 + 1 / s, 1 + 3 / s]))
    }

    @Test("batch norm without running statistics has no buffers")
    func batchNormUntracked() {
        let layer = BatchNorm<Float>(featureCount: 3, tracksRunningStatistics: false)
        #expect(layer.namedBuffers.isEmpty)
        #expect(layer.namedParameters.map(\.name) == ["weight", "bias"])
        layer.setTraining(false)
        // Still normalised with batch statistics.
        let output = layer(Tensor(shape: [2, 3], scalars: [0, 0, 0, 2, 2, 2]))
        #expect(isClose(output.doubles, [-1, -1, -1, 1, 1, 1], tolerance: 1e-4))
    }

    @Test("batch norm gradients in training match finite differences")
    func batchNormGradients() {
        let result = checkGradients(
            of: { inputs in
                let layer = BatchNorm<Double>(featureCount: 3)
                layer.weight = inputs[1]
                layer.bias = inputs[2]
                return layer(inputs[0])
            },
            at: randomInputs([[4, 3, 2, 2], [3], [3]], seed: 7))
        #expect(result.passed, "\(result)")
        let features = checkGradients(
            of: { inputs in BatchNorm<Double>(featureCount: 3)(inputs[0]) },
            at: randomInputs([[5, 3]], seed: 8))
        #expect(features.passed, "\(features)")
    }

    @Test("batch norm rejects training on one value per channel")
    func batchNormSingleValue() async {
        await #expect(processExitsWith: .failure) {
            _ = BatchNorm<Float>(featureCount: 2)(Tensor(zeros: [1, 2]))
        }
    }

    // MARK: - Activations and reshaping

    @Test("activations compute their functions")
    func activations() {
        let input = Tensor<Double>([-2, 0, 1])
        #expect(Tanh<Double>()(input).scalars == [Foundation.tanh(-2), 0, Foundation.tanh(1)])
        #expect(ReLU<Double>()(input).scalars == [0, 0, 1])
        let sigmoid: [Double] = [-2, 0, 1].map { 1 / (1 + exp(-$0)) }
        #expect(isClose(Sigmoid<Double>()(input).scalars, sigmoid))
        let softplus: [Double] = [-2, 0, 1].map { log(1 + exp($0)) }
        #expect(isClose(Softplus<Double>()(input).scalars, softplus))
        let sharpSoftplus: [Double] = [-2, 0, 1].map { log(1 + exp(2 * $0)) / 2 }
        #expect(isClose(Softplus<Double>(beta: 2)(input).scalars, sharpSoftplus))
        #expect(Identity<Double>()(input) === input)
    }

    @Test("flatten merges trailing dimensions")
    func flatten() {
        let input = Tensor<Float>(zeros: [2, 3, 4, 5])
        #expect(Flatten<Float>()(input).shape == [2, 60])
        #expect(Flatten<Float>(startAxis: 2)(input).shape == [2, 3, 20])
        #expect(Flatten<Float>(startAxis: 0)(input).shape == [120])
    }

    @Test("sequential applies its layers in order")
    func sequential() {
        let model = Sequential<Double>(
            Linear(weight: Tensor(shape: [2, 2], scalars: [1, 0, 0, -1]), bias: nil), ReLU(),
            Linear(weight: Tensor(shape: [1, 2], scalars: [1, 1]), bias: Tensor([0.5])))
        // [3, 2] → [3, -2] → [3, 0] → 3.5.
        #expect(model(Tensor(shape: [1, 2], scalars: [3, 2])).scalars == [3.5])
    }

    @Test("sequential fusion keeps values and gradients", arguments: [7, 4096])
    func sequentialFusion(rows: Int) throws {
        var generator = RandomGenerator(seed: 3)
        let first = Linear<Double>(inputSize: 3, outputSize: 20, generator: &generator)
        let second = Linear<Double>(inputSize: 20, outputSize: 20, generator: &generator)
        let third = Linear<Double>(inputSize: 20, outputSize: 20, generator: &generator)
        let last = Linear<Double>(inputSize: 20, outputSize: 2, generator: &generator)
        // Tanh, Sigmoid and Softplus() fuse; Softplus(beta: 2) and ReLU stay separate layers.
        let layers: [any Layer<Double>] = [
            first, Tanh(), second, Sigmoid(), third, Softplus(beta: 2), last, Softplus(),
        ]
        let model = Sequential<Double>(layers)
        let input = Tensor<Double>(randomNormal: [rows, 3], generator: &generator)
        func layerByLayer(_ x: Tensor<Double>) -> Tensor<Double> {
            layers.reduce(x) { value, layer in layer(value) }
        }
        let fused = withoutGradients { model(input) }
        let separate = withoutGradients { layerByLayer(input) }
        #expect(isClose(fused.scalars, separate.scalars))

        let parameters = model.parameters
        let fusedGradients = gradients(of: model(input).squared().sum(), withRespectTo: parameters)
        let separateGradients = gradients(
            of: layerByLayer(input).squared().sum(), withRespectTo: parameters)
        for (a, b) in zip(fusedGradients, separateGradients) {
            #expect(isClose(a.scalars, b.scalars))
        }
    }

    @Test("sequential names a mismatched layer")
    func sequentialMismatchMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var generator = RandomGenerator(seed: 4)
            let model = Sequential<Float>(
                Linear(inputSize: 3, outputSize: 64, generator: &generator), Tanh(),
                Linear(inputSize: 65, outputSize: 2, generator: &generator))
            _ = model(Tensor<Float>(randomNormal: [4096, 3], generator: &generator))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(
            message.contains("Sequential: layer 2 (Linear with inputSize 65) receives inputs of width 64"),
            "message: \(message)")
    }

    @Test("sequential names a layer's wrong bias")
    func sequentialBiasMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var generator = RandomGenerator(seed: 5)
            let second = Linear<Float>(inputSize: 64, outputSize: 64, generator: &generator)
            let model = Sequential<Float>(
                Linear(inputSize: 3, outputSize: 64, generator: &generator), Tanh(), second, Tanh(),
                Linear(inputSize: 64, outputSize: 2, generator: &generator))
            second.bias = Tensor(zeros: [5])
            _ = model(Tensor<Float>(randomNormal: [4096, 3], generator: &generator))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(
            message.contains("Sequential: layer 2 (Linear with outputSize 64) has a bias of shape [5]"),
            "message: \(message)")
    }
}

/// Normal random tensors of the given shapes, from a fixed seed.
func randomInputs(_ shapes: [[Int]], seed: UInt64) -> [Tensor<Double>] {
    var generator = RandomGenerator(seed: seed)
    return shapes.map { Tensor<Double>(randomNormal: $0, generator: &generator) }
}
