import Foundation
@testable import TensorEngine
import TestSupport
import Testing

/// One shape of `Tensor.linear(_:weight:bias:activation:)` and the code path it reaches.
struct FusedLinearCase: CustomStringConvertible, Sendable {
    let rows: Int
    let inputSize: Int
    let outputSize: Int
    let hasBias: Bool
    let activation: ElementaryFunction?
    let path: String

    var description: String { "\(rows)×\(inputSize)→\(outputSize), \(path)" }
}

private let fusedLinearCases: [FusedLinearCase] = [
    FusedLinearCase(rows: 3, inputSize: 5, outputSize: 7, hasBias: true, activation: .tanh,
                    path: "rows narrower than a vector"),
    FusedLinearCase(rows: 64, inputSize: 64, outputSize: 64, hasBias: true, activation: .tanh,
                    path: "one block on one thread"),
    FusedLinearCase(rows: 2000, inputSize: 8, outputSize: 40, hasBias: true, activation: .sigmoid,
                    path: "two blocks on one thread"),
    FusedLinearCase(rows: 4100, inputSize: 64, outputSize: 33, hasBias: true, activation: .tanh,
                    path: "two threads, two blocks each, a partial vector per row"),
    FusedLinearCase(rows: 4100, inputSize: 64, outputSize: 2, hasBias: true, activation: nil,
                    path: "bias only, two threads"),
    FusedLinearCase(rows: 50, inputSize: 10, outputSize: 20, hasBias: false, activation: .softplus,
                    path: "activation without bias"),
    FusedLinearCase(rows: 30, inputSize: 6, outputSize: 17, hasBias: true, activation: .sin,
                    path: "a function without a vector kernel"),
    FusedLinearCase(rows: 10, inputSize: 300, outputSize: 300, hasBias: true, activation: .tanh,
                    path: "a weight too large for blocks"),
]

/// `activation(x · wᵀ + b)` with plain loops in `Double`, from the values of the operands.
private func referenceLinear(
    _ x: [Double], _ w: [Double], _ b: [Double]?, _ activation: ElementaryFunction?,
    rows: Int, inputSize: Int, outputSize: Int
) -> [Double] {
    var result = [Double](repeating: 0, count: rows * outputSize)
    for r in 0..<rows {
        for c in 0..<outputSize {
            var sum = b?[c] ?? 0
            for p in 0..<inputSize { sum += x[r * inputSize + p] * w[c * inputSize + p] }
            switch activation {
            case nil: break
            case .tanh: sum = tanh(sum)
            case .sigmoid: sum = 1 / (1 + exp(-sum))
            case .softplus: sum = log1p(exp(sum))
            case .sin: sum = sin(sum)
            default: Issue.record("no reference for \(String(describing: activation))")
            }
            result[r * outputSize + c] = sum
        }
    }
    return result
}

@Suite("Fused linear layer")
struct FusedLinearTests {
    @Test("Float values match plain loops", arguments: fusedLinearCases)
    func floatValues(testCase: FusedLinearCase) {
        var generator = RandomGenerator(seed: UInt64(testCase.rows * 31 + testCase.outputSize))
        let x = Tensor<Float>(
            randomUniform: [testCase.rows, testCase.inputSize], lower: -2, upper: 2,
            generator: &generator)
        let w = Tensor<Float>(
            randomUniform: [testCase.outputSize, testCase.inputSize], lower: -0.5, upper: 0.5,
            generator: &generator)
        let b = testCase.hasBias
            ? Tensor<Float>(randomUniform: [testCase.outputSize], lower: -1, upper: 1, generator: &generator)
            : nil
        let y = Tensor.linear(x, weight: w, bias: b, activation: testCase.activation)
        #expect(y.shape == [testCase.rows, testCase.outputSize])
        let expected = referenceLinear(
            x.doubles, w.doubles, b?.doubles, testCase.activation, rows: testCase.rows,
            inputSize: testCase.inputSize, outputSize: testCase.outputSize)
        let actual = y.doubles
        // Float sums of up to 300 products of values below 2 · 0.5: a few units of 1e-6
        // relative to the sum of magnitudes, and every activation here has slope at most 1.
        let tolerance = 2e-6 * Double(testCase.inputSize)
        var worst = 0.0
        for i in 0..<expected.count { worst = max(worst, abs(actual[i] - expected[i])) }
        #expect(worst <= tolerance, "largest difference \(worst) for \(testCase)")
    }

    @Test("Double values match separate operations", arguments: fusedLinearCases)
    func doubleValues(testCase: FusedLinearCase) {
        var generator = RandomGenerator(seed: 5)
        let x = Tensor<Double>(
            randomNormal: [testCase.rows, testCase.inputSize], generator: &generator)
        let w = Tensor<Double>(
            randomNormal: [testCase.outputSize, testCase.inputSize], generator: &generator) * 0.2
        let b = testCase.hasBias
            ? Tensor<Double>(randomNormal: [testCase.outputSize], generator: &generator)
            : nil
        let fused = Tensor.linear(x, weight: w, bias: b, activation: testCase.activation)
        var separate = matmul(x, w, transposeB: true)
        if let b { separate = separate + b }
        if let activation = testCase.activation { separate = separate.applying(activation) }
        let difference = (fused - separate).abs().max().scalar
        #expect(difference <= 1e-12, "largest difference \(difference) for \(testCase)")
    }

    @Test("split halves use the task's backend")
    func backendOverrideReachesTheWorker() {
        var generator = RandomGenerator(seed: 11)
        let x = Tensor<Float>(randomNormal: [8192, 64], generator: &generator)
        let w = Tensor<Float>(randomNormal: [2, 64], generator: &generator)
        let b = Tensor<Float>(randomNormal: [2], generator: &generator)
        MatrixProductBackend.$override.withValue(.openBLAS) {
            // OpenBLAS rounds these products differently from oneDNN, and the worker thread
            // usually computes the second half of the rows; 20 calls make a miss unlikely.
            let reference = (matmul(x, w, transposeB: true) + b).scalars
            for call in 0..<20 {
                let fused = Tensor.linear(x, weight: w, bias: b).scalars
                let differing = zip(fused, reference).filter { $0 != $1 }.count
                #expect(differing == 0, "call \(call): \(differing) of \(fused.count) values differ")
            }
        }
    }

    @Test("recorded gradients match finite differences")
    func gradients() {
        var generator = RandomGenerator(seed: 9)
        let inputs = [
            Tensor<Double>(randomNormal: [5, 4], generator: &generator),
            Tensor<Double>(randomNormal: [3, 4], generator: &generator),
            Tensor<Double>(randomNormal: [3], generator: &generator),
        ]
        let function: ([Tensor<Double>]) -> Tensor<Double> = {
            Tensor.linear($0[0], weight: $0[1], bias: $0[2], activation: .tanh)
        }
        let first = checkGradients(of: function, at: inputs)
        #expect(first.passed, "\(first)")
        let second = checkSecondGradients(of: function, at: inputs)
        #expect(second.passed, "\(second)")
    }

    /// Returns a 3-64-17-64-33-2 chain. Its middle layers of different widths take turns in
    /// the two scratch buffers of a split. At 4096 rows the layers together reach the split
    /// threshold, and at 64 rows they run layer by layer.
    private func chainLayers(_ generator: inout RandomGenerator) -> [LinearLayerParameters<Double>] {
        let sizes = [3, 64, 17, 64, 33, 2]
        let activations: [ElementaryFunction?] = [.tanh, .sigmoid, nil, .tanh, .softplus]
        return (0..<5).map { index in
            LinearLayerParameters(
                weight: Tensor<Double>(randomNormal: [sizes[index + 1], sizes[index]], generator: &generator) * 0.3,
                bias: index == 2 ? nil : Tensor<Double>(randomNormal: [sizes[index + 1]], generator: &generator),
                activation: activations[index])
        }
    }

    @Test("layer chains match one linear call per layer", arguments: [1, 64, 4096, 4101])
    func chainValues(rows: Int) {
        var generator = RandomGenerator(seed: UInt64(rows))
        let layers = chainLayers(&generator)
        let x = Tensor<Double>(randomNormal: [rows, 3], generator: &generator)
        let chained = Tensor.linearLayers(x, count: layers.count) { layers[$0] }
        let separate = layers.reduce(x) { value, layer in
            Tensor.linear(value, weight: layer.weight, bias: layer.bias, activation: layer.activation)
        }
        #expect(chained.shape == [rows, 2])
        let difference = (chained - separate).abs().max().scalar
        #expect(difference <= 1e-12, "largest difference \(difference) at \(rows) rows")
    }

    @Test("a split chain uses the task's backend on both halves")
    func chainBackendOverride() {
        var generator = RandomGenerator(seed: 12)
        let layers = chainLayers(&generator).map {
            LinearLayerParameters(
                weight: Tensor<Float>(shape: $0.weight.shape, scalars: $0.weight.scalars.map(Float.init)),
                bias: $0.bias.map { Tensor<Float>(shape: $0.shape, scalars: $0.scalars.map(Float.init)) },
                activation: $0.activation)
        }
        let x = Tensor<Float>(randomNormal: [8192, 3], generator: &generator)
        MatrixProductBackend.$override.withValue(.openBLAS) {
            // One `linear` call per layer cuts the rows into the same halves and blocks, and
            // "split halves use the task's backend" checks that it keeps the override. OpenBLAS
            // rounds these products differently from oneDNN, so a half of the chain computed
            // without the override would differ in the last bits.
            let reference = layers.reduce(x) { value, layer in
                Tensor.linear(value, weight: layer.weight, bias: layer.bias, activation: layer.activation)
            }
            for call in 0..<10 {
                let chained = Tensor.linearLayers(x, count: layers.count) { layers[$0] }.scalars
                let differing = zip(chained, reference.scalars).filter { $0 != $1 }.count
                #expect(differing == 0, "call \(call): \(differing) of \(chained.count) values differ")
            }
        }
    }

    @Test("recorded chains match separate gradients")
    func chainGradients() {
        var generator = RandomGenerator(seed: 13)
        let layers = chainLayers(&generator).map {
            LinearLayerParameters(
                weight: $0.weight.requiringGradient(), bias: $0.bias?.requiringGradient(),
                activation: $0.activation)
        }
        let parameters = layers.flatMap { [$0.weight] + ($0.bias.map { [$0] } ?? []) }
        let x = Tensor<Double>(randomNormal: [4096, 3], generator: &generator)
        func loss(_ output: Tensor<Double>) -> Tensor<Double> { output.squared().sum() }
        let chained = TensorEngine.gradients(
            of: loss(Tensor.linearLayers(x, count: layers.count) { layers[$0] }), withRespectTo: parameters)
        let separate = TensorEngine.gradients(
            of: loss(layers.reduce(x) { value, layer in
                Tensor.linear(value, weight: layer.weight, bias: layer.bias, activation: layer.activation)
            }), withRespectTo: parameters)
        for (index, (a, b)) in zip(chained, separate).enumerated() {
            let difference = (a - b).abs().max().scalar
            #expect(difference <= 1e-9, "parameter \(index): largest difference \(difference)")
        }
    }

    @Test("a chain asks for each layer once")
    func chainAsksOnce() {
        var generator = RandomGenerator(seed: 14)
        let layers = chainLayers(&generator)
        for rows in [8, 64, 4096] {
            let x = Tensor<Double>(randomNormal: [rows, 3], generator: &generator)
            var requests: [Int] = []
            _ = Tensor.linearLayers(x, count: layers.count) { index in
                requests.append(index)
                return layers[index]
            }
            #expect(requests == Array(0..<layers.count), "\(rows) rows: requests \(requests)")
        }
    }

    @Test("a width mismatch names the layer on every path", arguments: [8, 4096])
    func chainMismatchMessage(rows: Int) async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { [rows] in
            var generator = RandomGenerator(seed: 15)
            let x = Tensor<Float>(randomNormal: [rows, 3], generator: &generator)
            let layers = [
                LinearLayerParameters(
                    weight: Tensor<Float>(randomNormal: [64, 3], generator: &generator), bias: nil,
                    activation: .tanh),
                LinearLayerParameters(
                    weight: Tensor<Float>(randomNormal: [2, 65], generator: &generator), bias: nil,
                    activation: nil),
            ]
            _ = Tensor.linearLayers(x, count: 2) { layers[$0] }
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("linearLayers: layer 1 has weight [2, 65]"), "message: \(message)")
    }
}
