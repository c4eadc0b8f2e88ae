import CDNNL
import Foundation
@testable import TensorEngine
import Testing

// `Float` convolutions run on oneDNN unless NEURALODE_CONVOLUTION=im2col; `Double` convolutions
// always take the im2col path, because oneDNN has no f64 convolution. The finite-difference
// tables in ConvolutionGradientCases.swift run in `Double`, so they check the im2col kernels,
// and the tests below check the oneDNN kernels against them in `Float`.

/// Geometries for comparing the two backends: strides, paddings, groups, depthwise, pointwise,
/// odd sizes, channel counts that are not multiples of oneDNN's 16-channel blocks, and batch 1.
let backendConfigurations: [ConvolutionConfiguration] = [
    ConvolutionConfiguration(
        name: "ODE-Net block", inputShape: [4, 64, 7, 7], filterShape: [64, 64, 3, 3],
        paddings: (1, 1)),
    ConvolutionConfiguration(
        name: "odd channel counts", inputShape: [3, 20, 9, 7], filterShape: [24, 20, 3, 3],
        paddings: (1, 1)),
    ConvolutionConfiguration(
        name: "batch 1 without padding", inputShape: [1, 3, 8, 8], filterShape: [5, 3, 3, 3]),
    ConvolutionConfiguration(
        name: "stride 2 with padding", inputShape: [2, 16, 11, 11], filterShape: [32, 16, 3, 3],
        strides: (2, 2), paddings: (1, 1)),
    ConvolutionConfiguration(
        name: "separate strides and paddings", inputShape: [2, 4, 9, 10], filterShape: [6, 4, 3, 2],
        strides: (2, 1), paddings: (1, 2)),
    ConvolutionConfiguration(
        name: "5x5 kernel with padding 2", inputShape: [2, 8, 12, 12], filterShape: [8, 8, 5, 5],
        paddings: (2, 2)),
    ConvolutionConfiguration(
        name: "padding wider than half the kernel", inputShape: [2, 3, 5, 5], filterShape: [4, 3, 3, 3],
        paddings: (3, 3)),
    ConvolutionConfiguration(
        name: "kernel as large as the padded input", inputShape: [1, 2, 3, 3], filterShape: [2, 2, 5, 5],
        paddings: (1, 1)),
    ConvolutionConfiguration(
        name: "stride larger than the kernel", inputShape: [2, 2, 7, 7], filterShape: [3, 2, 2, 2],
        strides: (3, 3)),
    ConvolutionConfiguration(
        name: "two groups", inputShape: [2, 32, 6, 6], filterShape: [48, 16, 3, 3], paddings: (1, 1),
        groups: 2),
    ConvolutionConfiguration(
        name: "three groups of odd width", inputShape: [2, 9, 5, 6], filterShape: [6, 3, 3, 3],
        strides: (1, 2), paddings: (2, 1), groups: 3),
    ConvolutionConfiguration(
        name: "depthwise", inputShape: [2, 32, 7, 7], filterShape: [32, 1, 3, 3], paddings: (1, 1),
        groups: 32),
    ConvolutionConfiguration(
        name: "depthwise with multiplier 2 and stride 2", inputShape: [2, 16, 9, 9],
        filterShape: [32, 1, 3, 3], strides: (2, 2), paddings: (1, 1), groups: 16),
    ConvolutionConfiguration(
        name: "pointwise", inputShape: [3, 24, 5, 5], filterShape: [40, 24, 1, 1]),
    ConvolutionConfiguration(
        name: "pointwise with stride 2", inputShape: [2, 16, 8, 8], filterShape: [8, 16, 1, 1],
        strides: (2, 2)),
    ConvolutionConfiguration(
        name: "pointwise on large images", inputShape: [1, 4, 16, 16], filterShape: [3, 4, 1, 1]),
    ConvolutionConfiguration(
        name: "one pixel", inputShape: [2, 5, 1, 1], filterShape: [3, 5, 1, 1]),
]

/// The forward pass and both gradients of one convolution, computed three ways: the gradients
/// from one fused backward pass, from the two recorded gradient operations, and each alone.
struct ConvolutionResults {
    var output: [Float] = []
    var fused: [[Float]] = []
    var recorded: [[Float]] = []
    var alone: [[Float]] = []

    init(_ c: ConvolutionConfiguration, input: Tensor<Float>, filter: Tensor<Float>, seed: Tensor<Float>) {
        output = convolve(input, filter, c).scalars
        let x = input.requiringGradient()
        let w = filter.requiringGradient()
        fused = gradients(of: convolve(x, w, c), withRespectTo: [x, w], seed: seed).map(\.scalars)
        recorded = gradients(of: convolve(x, w, c), withRespectTo: [x, w], seed: seed, createGraph: true)
            .map(\.scalars)
        alone = [
            gradients(of: convolve(x, filter, c), withRespectTo: [x], seed: seed)[0].scalars,
            gradients(of: convolve(input, w, c), withRespectTo: [w], seed: seed)[0].scalars,
        ]
    }
}

/// Returns the largest `|a − b|` over corresponding elements, divided by `1 + max |b|`.
///
/// Scaling by the largest magnitude, not element by element, keeps the bound meaningful for
/// outputs near zero, whose rounding error follows the size of the summed products.
func largestDifferenceRelativeToScale(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
    var largestDifference = 0.0
    var scale = 0.0
    for (x, y) in zip(a, b) {
        largestDifference = max(largestDifference, Double(abs(x - y)))
        scale = max(scale, Double(abs(y)))
    }
    return largestDifference / (1 + scale)
}

@Suite("Convolution backends")
struct ConvolutionBackendTests {
    /// Float rounding: the two backends sum up to 576 products in different orders. Observed
    /// differences stay below 1e-6 of the largest value, so the bound leaves a margin of 10.
    static let tolerance = 1e-5

    @Test("oneDNN implements every geometry of the table", arguments: backendConfigurations)
    func oneDNNImplementsGeometry(_ c: ConvolutionConfiguration) throws {
        let geometry = ConvolutionGeometry(
            inputShape: c.inputShape, filterShape: c.filterShape, strides: c.strides,
            paddings: c.paddings, groups: c.groups)
        for kind in [OneDNNConvolutionKind.forward, .backwardData, .backwardWeights] {
            let primitive = OneDNNConvolutionCache.shared.primitive(kind, geometry)
            #expect(primitive != nil, "no oneDNN primitive for \(kind)")
        }
    }

    @Test("oneDNN and im2col agree on the forward pass and gradients", arguments: backendConfigurations)
    func backendsAgree(_ c: ConvolutionConfiguration) {
        var generator = RandomGenerator(seed: 41)
        let input = Tensor<Float>(randomNormal: c.inputShape, generator: &generator)
        let filter = Tensor<Float>(randomNormal: c.filterShape, generator: &generator)
        let outputShape = convolve(input, filter, c).shape
        let seed = Tensor<Float>(randomNormal: outputShape, generator: &generator)

        let oneDNN = ConvolutionBackend.$override.withValue(.oneDNN) {
            ConvolutionResults(c, input: input, filter: filter, seed: seed)
        }
        let im2col = ConvolutionBackend.$override.withValue(.im2col) {
            ConvolutionResults(c, input: input, filter: filter, seed: seed)
        }
        let tolerance = ConvolutionBackendTests.tolerance
        #expect(largestDifferenceRelativeToScale(oneDNN.output, im2col.output) < tolerance)
        for (index, name) in ["input", "filter"].enumerated() {
            let fused = largestDifferenceRelativeToScale(oneDNN.fused[index], im2col.fused[index])
            let recorded = largestDifferenceRelativeToScale(oneDNN.recorded[index], im2col.recorded[index])
            let alone = largestDifferenceRelativeToScale(oneDNN.alone[index], im2col.alone[index])
            #expect(fused < tolerance, "\(name) gradient, fused backward pass")
            #expect(recorded < tolerance, "\(name) gradient, recorded backward pass")
            #expect(alone < tolerance, "\(name) gradient alone")
        }
    }

    @Test("oneDNN and im2col agree on second derivatives")
    func secondDerivativesAgree() {
        // d/dw <v, d/dx <s, tanh(conv(x, w))>>: the recorded gradient operations' own pullbacks
        // run both kernels again.
        let c = backendConfigurations.first { $0.name == "two groups" }!
        var generator = RandomGenerator(seed: 42)
        let input = Tensor<Float>(randomNormal: c.inputShape, generator: &generator)
        let filter = Tensor<Float>(randomNormal: c.filterShape, standardDeviation: 0.1, generator: &generator)
        let direction = Tensor<Float>(randomNormal: c.inputShape, generator: &generator)
        func secondDerivative() -> [Float] {
            let x = input.requiringGradient()
            let w = filter.requiringGradient()
            let inputGradient = gradients(
                of: convolve(x, w, c).tanh().sum(), withRespectTo: [x], createGraph: true)[0]
            return gradients(of: (inputGradient * direction).sum(), withRespectTo: [w])[0].scalars
        }
        let oneDNN = ConvolutionBackend.$override.withValue(.oneDNN) { secondDerivative() }
        let im2col = ConvolutionBackend.$override.withValue(.im2col) { secondDerivative() }
        #expect(oneDNN.contains { $0 != 0 })
        #expect(largestDifferenceRelativeToScale(oneDNN, im2col) < ConvolutionBackendTests.tolerance)
    }

    @Test("Float oneDNN results match Double loops")
    func oneDNNMatchesReference() {
        let c = backendConfigurations.first { $0.name == "three groups of odd width" }!
        var generator = RandomGenerator(seed: 43)
        let reference = ReferenceConvolution(c)
        let input = Tensor<Double>(randomNormal: c.inputShape, generator: &generator)
        let filter = Tensor<Double>(randomNormal: c.filterShape, generator: &generator)
        let seed = Tensor<Double>(randomNormal: reference.outputShape, generator: &generator)
        let results = ConvolutionBackend.$override.withValue(.oneDNN) {
            ConvolutionResults(
                c, input: input.converted(to: Float.self), filter: filter.converted(to: Float.self),
                seed: seed.converted(to: Float.self))
        }
        let expectedOutput = reference.output(input: input.scalars, filter: filter.scalars)
        let expectedInput = reference.inputGradient(cotangent: seed.scalars, filter: filter.scalars)
        let expectedFilter = reference.filterGradient(cotangent: seed.scalars, input: input.scalars)
        // Float rounding over at most 42 products (for the filter gradient) of unit-variance values.
        #expect(largestScaledDifference(results.output.map(Double.init), expectedOutput) < 1e-5)
        #expect(largestScaledDifference(results.fused[0].map(Double.init), expectedInput) < 1e-5)
        #expect(largestScaledDifference(results.fused[1].map(Double.init), expectedFilter) < 1e-5)
    }

    @Test("concurrent first calls of new geometries give the serial results")
    func concurrentCreation() async {
        // Several tasks create and execute primitives for geometries not yet cached. The cache
        // lock and the per-call scratch buffers must keep them apart.
        let shapes = (0..<4).map { index in
            ConvolutionConfiguration(
                name: "concurrent \(index)", inputShape: [2, 8 + index, 5 + index, 6],
                filterShape: [4 + index, 8 + index, 3, 3], strides: (1, 1 + index % 2),
                paddings: (1, index % 3))
        }
        var generator = RandomGenerator(seed: 44)
        let inputs = shapes.map { Tensor<Float>(randomNormal: $0.inputShape, generator: &generator).scalars }
        let filters = shapes.map { Tensor<Float>(randomNormal: $0.filterShape, generator: &generator).scalars }
        let concurrent = await withTaskGroup(of: (Int, [Float]).self) { group in
            for (index, c) in shapes.enumerated() {
                let (input, filter) = (inputs[index], filters[index])
                group.addTask {
                    ConvolutionBackend.$override.withValue(.oneDNN) {
                        let x = Tensor<Float>(shape: c.inputShape, scalars: input)
                        let w = Tensor<Float>(shape: c.filterShape, scalars: filter)
                        return (index, convolve(x, w, c).scalars)
                    }
                }
            }
            var results = [[Float]](repeating: [], count: shapes.count)
            for await (index, values) in group { results[index] = values }
            return results
        }
        for (index, c) in shapes.enumerated() {
            let serial = ConvolutionBackend.$override.withValue(.oneDNN) {
                convolve(
                    Tensor<Float>(shape: c.inputShape, scalars: inputs[index]),
                    Tensor<Float>(shape: c.filterShape, scalars: filters[index]), c
                ).scalars
            }
            #expect(concurrent[index] == serial, "geometry \(index)")
        }
    }

    // MARK: - Backend selection

    @Test("NEURALODE_CONVOLUTION=im2col selects the im2col backend")
    func environmentSelectsIm2col() async {
        // Exit tests run in a child process, where `configured` has not been read yet.
        await #expect(processExitsWith: .success) {
            setenv(ConvolutionBackend.environmentVariable, "im2col", 1)
            guard ConvolutionBackend.configured == .im2col else { exit(1) }
        }
    }

    @Test("an unknown NEURALODE_CONVOLUTION value stops the program")
    func unknownBackendStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            setenv(ConvolutionBackend.environmentVariable, "cudnn", 1)
            _ = ConvolutionBackend.configured
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("NEURALODE_CONVOLUTION=cudnn"), "message: \(message)")
        #expect(message.contains("'onednn' or 'im2col'"), "message: \(message)")
    }

    // MARK: - Failures

    @Test("oneDNN failure message names the call, status and shapes")
    func failureMessage() async {
        // No valid convolution makes oneDNN fail, so the test stops with a constructed error.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let geometry = ConvolutionGeometry(
                inputShape: [2, 3, 5, 5], filterShape: [4, 3, 3, 3], strides: (2, 1), paddings: (1, 0),
                groups: 1)
            OneDNNError(function: "dnnl_primitive_desc_create", status: dnnl_invalid_arguments)
                .stop(geometry)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        for fragment in [
            "dnnl_primitive_desc_create", "invalid_arguments", "input [2, 3, 5, 5]",
            "filter [4, 3, 3, 3]", "strides (2, 1)", "paddings (1, 0)", "NEURALODE_CONVOLUTION=im2col",
        ] {
            #expect(message.contains(fragment), "missing \"\(fragment)\" in: \(message)")
        }
    }
}
