import NeuralNetworks
import TensorEngine
import Testing

/// A residual block with two convolutions and a norm, to exercise nested names.
final class Block: Module {
    typealias Scalar = Double
    let conv1: Conv2d<Double>
    let norm: BatchNorm<Double>
    let conv2: Conv2d<Double>?
    /// A constant tensor: neither a parameter nor a buffer.
    let mask = Tensor<Double>(ones: [1, 2, 1, 1])

    init(generator: inout RandomGenerator) {
        conv1 = Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, generator: &generator)
        norm = BatchNorm(featureCount: 2)
        conv2 = Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 1, bias: false, generator: &generator)
    }
}

final class Network: Module {
    typealias Scalar = Double
    let block: Block
    let head: Sequential<Double>
    @Parameter var scale = Tensor<Double>([2])
    let extraBlocks: [Block]

    init(generator: inout RandomGenerator) {
        block = Block(generator: &generator)
        head = Sequential(
            Flatten(), Linear<Double>(inputSize: 8, outputSize: 3, generator: &generator), Tanh(),
            Linear<Double>(inputSize: 3, outputSize: 1, bias: false, generator: &generator))
        extraBlocks = [Block(generator: &generator)]
    }
}

/// A module that contains one submodule twice, as weight tying does.
final class Tied: Module {
    typealias Scalar = Float
    let first: Linear<Float>
    let second: Linear<Float>

    init(generator: inout RandomGenerator) {
        first = Linear(inputSize: 2, outputSize: 2, generator: &generator)
        second = first
    }
}

@Suite("Module reflection")
struct ModuleTests {
    @Test("parameters get dotted names in declaration order")
    func parameterNames() {
        var generator = RandomGenerator(seed: 1)
        let network = Network(generator: &generator)
        let names = network.namedParameters.map(\.name)
        #expect(
            names == [
                "block.conv1.weight", "block.conv1.bias", "block.norm.weight", "block.norm.bias",
                "block.conv2.weight", "head.1.weight", "head.1.bias", "head.3.weight", "scale",
                "extraBlocks.0.conv1.weight", "extraBlocks.0.conv1.bias", "extraBlocks.0.norm.weight",
                "extraBlocks.0.norm.bias", "extraBlocks.0.conv2.weight",
            ])
        #expect(network.namedParameters.allSatisfy { $0.tensor.requiresGradient })
    }

    @Test("buffers are listed apart from parameters")
    func bufferNames() {
        var generator = RandomGenerator(seed: 1)
        let network = Network(generator: &generator)
        #expect(
            network.namedBuffers.map(\.name) == [
                "block.norm.running_mean", "block.norm.running_var",
                "extraBlocks.0.norm.running_mean", "extraBlocks.0.norm.running_var",
            ])
        #expect(network.namedBuffers.allSatisfy { !$0.tensor.requiresGradient })
    }

    @Test("sequential names layers by position as PyTorch does")
    func sequentialNames() {
        var generator = RandomGenerator(seed: 2)
        let model = Sequential<Float>(
            Linear(inputSize: 2, outputSize: 4, generator: &generator), ReLU(),
            Linear(inputSize: 4, outputSize: 1, generator: &generator))
        #expect(model.namedParameters.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(model.parameterCount == 2 * 4 + 4 + 4 + 1)
    }

    @Test("submodules are listed before their children")
    func moduleNames() {
        var generator = RandomGenerator(seed: 1)
        let network = Network(generator: &generator)
        #expect(
            network.namedModules.map(\.name) == [
                "", "block", "block.conv1", "block.norm", "block.conv2", "head", "head.0", "head.1",
                "head.2", "head.3", "extraBlocks.0", "extraBlocks.0.conv1", "extraBlocks.0.norm",
                "extraBlocks.0.conv2",
            ])
    }

    @Test("a shared submodule is listed once")
    func sharedModule() {
        var generator = RandomGenerator(seed: 3)
        let tied = Tied(generator: &generator)
        #expect(tied.namedParameters.map(\.name) == ["first.weight", "first.bias"])
        #expect(tied.namedModules.count == 2)
    }

    @Test("setTraining reaches every batch norm")
    func trainingMode() {
        var generator = RandomGenerator(seed: 1)
        let network = Network(generator: &generator)
        network.setTraining(false)
        #expect(network.block.norm.isTraining == false)
        #expect(network.extraBlocks[0].norm.isTraining == false)
        network.setTraining(true)
        #expect(network.block.norm.isTraining)
        #expect(network.extraBlocks[0].norm.isTraining)
    }

    @Test("zeroGradients clears accumulated gradients")
    func zeroGradients() {
        var generator = RandomGenerator(seed: 4)
        let layer = Linear<Double>(inputSize: 3, outputSize: 2, generator: &generator)
        layer(Tensor(ones: [1, 3])).sum().backward()
        #expect(layer.weight.gradient?.scalars == [1, 1, 1, 1, 1, 1])
        #expect(layer.bias?.gradient?.scalars == [1, 1])
        layer.zeroGradients()
        #expect(layer.weight.gradient == nil)
        #expect(layer.bias?.gradient == nil)
    }

    @Test("assigning a parameter marks it as a gradient leaf")
    func parameterAssignment() {
        var generator = RandomGenerator(seed: 5)
        let layer = Linear<Float>(inputSize: 2, outputSize: 1, generator: &generator)
        let replacement = Tensor<Float>(shape: [1, 2], scalars: [3, 4])
        #expect(!replacement.requiresGradient)
        layer.weight = replacement
        #expect(replacement.requiresGradient)
        #expect(layer.namedParameters.first?.tensor === replacement)
    }
}
