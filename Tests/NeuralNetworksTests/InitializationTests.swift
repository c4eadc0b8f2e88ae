import NeuralNetworks
import TensorEngine
import Testing

/// Mean and population standard deviation of `values`.
func statistics(_ values: [Double]) -> (mean: Double, standardDeviation: Double) {
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
    return (mean, variance.squareRoot())
}

@Suite("Initialization")
struct InitializationTests {
    @Test("linear weight has PyTorch's bound and standard deviation")
    func linearWeightStatistics() {
        var generator = RandomGenerator(seed: 11)
        let layer = Linear<Float>(inputSize: 256, outputSize: 256, generator: &generator)
        let weights = layer.weight.doubles
        let bound = 1 / 256.0.squareRoot()
        #expect(weights.allSatisfy { abs($0) <= bound })
        // U(-b, b) has standard deviation b / sqrt(3) = 1 / sqrt(3 · 256).
        let (mean, standardDeviation) = statistics(weights)
        let expected = 1 / (3 * 256.0).squareRoot()
        #expect(abs(standardDeviation - expected) / expected < 0.02)
        // 65,536 draws: the mean's standard error is about 1.4e-4.
        #expect(abs(mean) < 1e-3)
        // The extremes come close to the bound.
        #expect(weights.map { abs($0) }.max()! > 0.99 * bound)
    }

    @Test("linear bias is uniform within 1/sqrt(fanIn)")
    func linearBias() throws {
        var generator = RandomGenerator(seed: 12)
        let layer = Linear<Double>(inputSize: 16, outputSize: 4096, generator: &generator)
        let bias = try #require(layer.bias).scalars
        #expect(bias.allSatisfy { abs($0) <= 0.25 })
        let (_, standardDeviation) = statistics(bias)
        #expect(abs(standardDeviation - 0.25 / 3.0.squareRoot()) < 0.01)
    }

    @Test("conv2d fan-in counts input channels per group times the kernel")
    func convolutionBound() throws {
        var generator = RandomGenerator(seed: 13)
        let layer = Conv2d<Double>(
            inputChannels: 32, outputChannels: 64, kernelSize: 3, groups: 2, generator: &generator)
        // fanIn = 32 / 2 · 3 · 3 = 144, so the bound is 1/12.
        #expect(Initialization.fanIn(weightShape: layer.weight.shape) == 144)
        let weights = layer.weight.scalars
        #expect(weights.allSatisfy { abs($0) <= 1.0 / 12 })
        #expect(weights.map { abs($0) }.max()! > 0.99 / 12)
        let bias = try #require(layer.bias).scalars
        #expect(bias.allSatisfy { abs($0) <= 1.0 / 12 })
    }

    @Test("kaiming uniform uses the leaky-ReLU gain")
    func kaimingGain() {
        var generator = RandomGenerator(seed: 14)
        // a = 0 (ReLU): gain sqrt(2), bound sqrt(6 / fanIn) = sqrt(6 / 600) = 0.1.
        let weight: Tensor<Double> = Initialization.kaimingUniform(
            shape: [500, 600], negativeSlope: 0, generator: &generator)
        let values = weight.scalars
        #expect(values.allSatisfy { abs($0) <= 0.1 })
        #expect(values.map { abs($0) }.max()! > 0.0999)
    }

    @Test("the same seed gives the same weights")
    func reproducible() {
        var first = RandomGenerator(seed: 99)
        var second = RandomGenerator(seed: 99)
        var third = RandomGenerator(seed: 100)
        let a = Linear<Float>(inputSize: 5, outputSize: 3, generator: &first)
        let b = Linear<Float>(inputSize: 5, outputSize: 3, generator: &second)
        let c = Linear<Float>(inputSize: 5, outputSize: 3, generator: &third)
        #expect(a.weight.scalars == b.weight.scalars)
        #expect(a.bias?.scalars == b.bias?.scalars)
        #expect(a.weight.scalars != c.weight.scalars)
    }
}
