import Experiments
import NeuralNetworks
import TensorEngine
import Testing

@Suite("MNIST models")
struct MNISTModelTests {
    // Parameter counts with 64 channels, from the layer sizes (weights + biases):
    //
    // downsampling                                         132,096
    //   Conv2d(1, 64, 3):           64·1·3·3 + 64 =     640
    //   GroupNorm(32, 64):               64 + 64 =     128
    //   Conv2d(64, 64, 4, s2, p1): 64·64·4·4 + 64 =  65,600
    //   GroupNorm(32, 64):                         =     128
    //   Conv2d(64, 64, 4, s2, p1):                 =  65,600
    // ODE function                                          75,392
    //   3 × GroupNorm(32, 64):             3 · 128 =     384
    //   2 × ConcatConv2d(64, 64, 3): 2 · (64·65·3·3 + 64) = 2 · 37,504 = 75,008
    // residual block (no conv bias)                         73,984
    //   2 × GroupNorm:                     2 · 128 =     256
    //   2 × Conv2d(64, 64, 3):     2 · 64·64·3·3 =  73,728
    // head: GroupNorm 128 + Linear(64, 10) 64·10 + 10 = 650    778
    //
    // ODE-Net and RK-Net: 132,096 + 75,392 + 778 = 208,266
    // ResNet: 132,096 + 6 · 73,984 + 778 = 576,778
    @Test("parameter counts match the layer sizes", arguments: [
        (MNISTModelKind.odenet, 208_266), (.rknet, 208_266), (.resnet, 576_778),
    ])
    func parameterCounts(kind: MNISTModelKind, expected: Int) {
        var generator = RandomGenerator(seed: 0)
        let model = MNISTClassifier(kind: kind, generator: &generator)
        #expect(model.parameterCount == expected)
    }

    @Test("parameters carry the reference model's names")
    func parameterNames() {
        var generator = RandomGenerator(seed: 0)
        let odenet = MNISTClassifier(kind: .odenet, generator: &generator)
        let odenetNames = odenet.namedParameters.map(\.name)
        #expect(Array(odenetNames.prefix(4)) == ["0.weight", "0.bias", "1.weight", "1.bias"])
        #expect(odenetNames.contains("7.odefunc.conv1._layer.weight"))
        #expect(odenetNames.contains("7.odefunc.norm3.bias"))
        #expect(Array(odenetNames.suffix(4)) == ["8.weight", "8.bias", "12.weight", "12.bias"])

        let resnet = MNISTClassifier(kind: .resnet, generator: &generator)
        let resnetNames = resnet.namedParameters.map(\.name)
        #expect(resnetNames.contains("7.conv1.weight"))
        #expect(resnetNames.contains("12.conv2.weight"))
        #expect(!resnetNames.contains("7.conv1.bias"))
        #expect(Array(resnetNames.suffix(4)) == ["13.weight", "13.bias", "17.weight", "17.bias"])
    }

    @Test("shapes from images to logits", arguments: MNISTModelKind.allCases)
    func shapes(kind: MNISTModelKind) throws {
        var generator = RandomGenerator(seed: 1)
        let model = MNISTClassifier(kind: kind, generator: &generator)
        let images = Tensor<Float>(randomUniform: [2, 1, 28, 28], generator: &generator)
        let features = withoutGradients { model.downsample(images) }
        #expect(features.shape == [2, 64, 6, 6])
        let forward = try withoutGradients { try model(images) }
        #expect(forward.logits.shape == [2, 10])
        #expect(forward.logits.isFinite)
        if kind == .resnet {
            #expect(forward.solution == nil)
        } else {
            let evaluations = try #require(forward.solution).statistics.functionEvaluations
            #expect(evaluations >= 8, "dopri5 evaluates at least once per stage plus the initial step")
        }
    }

    @Test("ConcatConv2d equals a convolution over the input with a constant time channel")
    func concatConvolution() {
        var generator = RandomGenerator(seed: 2)
        let layer = ConcatConv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1, generator: &generator)
        let input = Tensor<Float>(randomNormal: [2, 3, 5, 5], generator: &generator)
        let t = 0.37
        let output = layer(t, input)

        let timeChannel = Tensor<Float>(repeating: Float(t), shape: [2, 1, 5, 5])
        let concatenated = Tensor.concatenated([timeChannel, input], alongAxis: 1)
        let expected =
            conv2d(concatenated, filter: layer.layer.weight, padding: 1)
            + layer.layer.bias!.reshaped(to: [1, 4, 1, 1])
        #expect(output.shape == [2, 4, 5, 5])
        let difference = (output - expected).abs().max().scalar
        #expect(difference < 1e-5, "largest difference \(difference)")
    }

    @Test("ConcatConv2d gradients equal those of the concatenated form")
    func concatConvolutionGradients() {
        var generator = RandomGenerator(seed: 4)
        let layer = ConcatConv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, generator: &generator)
        let input = Tensor<Float>(randomNormal: [1, 2, 4, 4], generator: &generator).requiringGradient()
        let seed = Tensor<Float>(randomNormal: [1, 3, 4, 4], generator: &generator)
        let t = 0.8
        let weight = layer.layer.weight
        let bias = layer.layer.bias!

        let output = (layer(t, input) * seed).sum()
        let actual = gradients(of: output, withRespectTo: [input, weight, bias])

        let timeChannel = Tensor<Float>(repeating: Float(t), shape: [1, 1, 4, 4])
        let reference =
            ((conv2d(Tensor.concatenated([timeChannel, input], alongAxis: 1), filter: weight, padding: 1)
                + bias.reshaped(to: [1, 3, 1, 1])) * seed).sum()
        let expected = gradients(of: reference, withRespectTo: [input, weight, bias])
        for (name, (a, e)) in zip(["input", "weight", "bias"], zip(actual, expected)) {
            let difference = (a - e).abs().max().scalar
            #expect(difference < 1e-4, "gradient of \(name): largest difference \(difference)")
        }
    }

    @Test("ODE-Net trains by the adjoint and RK-Net by backpropagation")
    func gradientMethods() throws {
        var generator = RandomGenerator(seed: 5)
        let odenet = MNISTClassifier(kind: .odenet, channels: 4, generator: &generator)
        let rknet = MNISTClassifier(kind: .rknet, channels: 4, generator: &generator)
        let images = Tensor<Float>(randomUniform: [2, 1, 28, 28], generator: &generator)
        for (model, expectsBackwardSolve) in [(odenet, true), (rknet, false)] {
            let forward = try model(images)
            let loss = crossEntropy(logits: forward.logits, labels: [0, 1])
            let parameterGradients = gradients(of: loss, withRespectTo: model.parameters)
            #expect(parameterGradients.allSatisfy { $0.isFinite })
            let backward = try #require(forward.solution).backward.statistics.functionEvaluations
            #expect((backward > 0) == expectsBackwardSolve, "\(model.kind): \(backward) backward evaluations")
        }
    }
}
