import Foundation
import NeuralNetworks
import TensorEngine
import Testing

@Suite("Recurrent cells")
struct LatentRecurrentCellTests {
    @Test("RNN cell computes tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)")
    func rnnValues() {
        var generator = RandomGenerator(seed: 1)
        let cell = RNNCell<Double>(inputSize: 2, hiddenSize: 2, generator: &generator)
        cell.inputWeight.assign(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        cell.hiddenWeight.assign(Tensor(shape: [2, 2], scalars: [0.5, 0, 0, -1]))
        cell.inputBias.assign(Tensor([0.1, 0.2]))
        cell.hiddenBias.assign(Tensor([-0.1, 0.3]))
        let next = cell(Tensor(shape: [1, 2], scalars: [0.5, -0.25]), Tensor(shape: [1, 2], scalars: [2, 1])).scalars
        // x W_ihᵀ = [0, 0.5], h W_hhᵀ = [1, −1], b_ih + b_hh = [0, 0.5]: the sum is [1, 0].
        #expect(abs(next[0] - tanh(1.0)) < 1e-15)
        #expect(abs(next[1] - tanh(0.0)) < 1e-15)
        #expect(cell.namedParameters.map(\.name) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
    }

    /// Computes the GRU update of PyTorch's documentation with plain loops, for one example.
    static func referenceGRU(_ cell: GRUCell<Double>, input: [Double], hidden: [Double]) -> [Double] {
        let size = cell.hiddenSize
        let wi = cell.inputWeight.scalars
        let wh = cell.hiddenWeight.scalars
        let bi = cell.inputBias.scalars
        let bh = cell.hiddenBias.scalars
        func row(_ weights: [Double], _ bias: [Double], _ vector: [Double], _ r: Int) -> Double {
            bias[r] + vector.indices.reduce(0) { $0 + weights[r * vector.count + $1] * vector[$1] }
        }
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        return (0..<size).map { j in
            let reset = sigmoid(row(wi, bi, input, j) + row(wh, bh, hidden, j))
            let update = sigmoid(row(wi, bi, input, size + j) + row(wh, bh, hidden, size + j))
            let candidate = tanh(row(wi, bi, input, 2 * size + j) + reset * row(wh, bh, hidden, 2 * size + j))
            return (1 - update) * candidate + update * hidden[j]
        }
    }

    @Test("GRU cell matches the gate equations")
    func gruValues() {
        var generator = RandomGenerator(seed: 2)
        let cell = GRUCell<Double>(inputSize: 3, hiddenSize: 4, generator: &generator)
        let input = Tensor<Double>(randomNormal: [2, 3], generator: &generator)
        let hidden = Tensor<Double>(randomNormal: [2, 4], generator: &generator)
        let next = cell(input, hidden).scalars
        for b in 0..<2 {
            let expected = Self.referenceGRU(
                cell, input: Array(input.scalars[(3 * b)..<(3 * b + 3)]), hidden: Array(hidden.scalars[(4 * b)..<(4 * b + 4)]))
            for j in 0..<4 { #expect(abs(next[4 * b + j] - expected[j]) < 1e-12) }
        }
        #expect(cell.inputWeight.shape == [12, 3])
        #expect(cell.hiddenWeight.shape == [12, 4])
    }

    @Test("initial weights are uniform within 1/sqrt(hidden size)")
    func initialization() {
        var generator = RandomGenerator(seed: 3)
        let cell = GRUCell<Double>(inputSize: 5, hiddenSize: 25, generator: &generator)
        let values = cell.parameters.flatMap(\.scalars)
        #expect(values.allSatisfy { abs($0) <= 0.2 })
        #expect(values.contains { abs($0) > 0.15 })
    }

    @Test("GRU gradients agree with central differences", arguments: [false, true])
    func gruGradients(throughState: Bool) {
        var generator = RandomGenerator(seed: 4)
        let cell = GRUCell<Double>(inputSize: 2, hiddenSize: 3, generator: &generator)
        let input = Tensor<Double>(randomNormal: [2, 2], generator: &generator)
        let hidden = Tensor<Double>(randomNormal: [2, 3], generator: &generator).requiringGradient()
        let weights = Tensor<Double>(randomNormal: [2, 3], generator: &generator)
        // Two steps, so the gradient also flows through the state.
        let loss = { () -> Tensor<Double> in
            let first = cell(input, hidden)
            return ((throughState ? cell(input, first) : first) * weights).sum()
        }
        let targets = cell.parameters + [hidden]
        let analytic = gradients(of: loss(), withRespectTo: targets)
        let step = 1e-6
        for (target, gradient) in zip(targets, analytic) {
            for index in 0..<target.scalarCount {
                let original = target.scalars[index]
                var values = target.scalars
                values[index] = original + step
                target.assign(Tensor(shape: target.shape, scalars: values))
                let plus = withoutGradients { loss().scalar }
                values[index] = original - step
                target.assign(Tensor(shape: target.shape, scalars: values))
                let minus = withoutGradients { loss().scalar }
                values[index] = original
                target.assign(Tensor(shape: target.shape, scalars: values))
                #expect(abs((plus - minus) / (2 * step) - gradient.scalars[index]) < 1e-7)
            }
        }
    }

    @Test("a hidden state of the wrong shape stops with the shapes")
    func shapeMismatch() async {
        await #expect(processExitsWith: .failure) {
            var generator = RandomGenerator(seed: 1)
            let cell = RNNCell<Float>(inputSize: 2, hiddenSize: 3, generator: &generator)
            _ = cell(Tensor(zeros: [4, 2]), Tensor(zeros: [4, 2]))
        }
    }
}
