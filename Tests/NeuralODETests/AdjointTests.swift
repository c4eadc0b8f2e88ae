import Foundation
import NeuralODE
import ODESolvers
import TensorEngine
import Testing

/// A 2-8-2 tanh network as dynamics, with its parameters as plain tensors.
struct SmallNetwork {
    let weight1: Tensor<Double>
    let bias1: Tensor<Double>
    let weight2: Tensor<Double>
    let bias2: Tensor<Double>

    init(seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        weight1 = Tensor(randomNormal: [2, 8], standardDeviation: 0.8, generator: &generator).requiringGradient()
        bias1 = Tensor(randomNormal: [8], standardDeviation: 0.3, generator: &generator).requiringGradient()
        weight2 = Tensor(randomNormal: [8, 2], standardDeviation: 0.8, generator: &generator).requiringGradient()
        bias2 = Tensor(randomNormal: [2], standardDeviation: 0.3, generator: &generator).requiringGradient()
    }

    var parameters: [Tensor<Double>] { [weight1, bias1, weight2, bias2] }

    func callAsFunction(_ t: Double, _ y: Tensor<Double>) -> Tensor<Double> {
        let hidden = (matmul(y, weight1) + bias1).tanh()
        return matmul(hidden, weight2) + bias2 + y * (-0.1 * t)
    }
}

/// A loss that depends on every output time, with different weights per time.
func weightedLoss(_ trajectory: Tensor<Double>) -> Tensor<Double> {
    let count = trajectory.shape[0]
    let weights = Tensor<Double>(shape: [count, 1, 1], scalars: (0..<count).map { 1 + 0.5 * Double($0) })
    return (trajectory.squared() * weights).sum() + trajectory.sum()
}

@Suite("Gradients through ODE solves")
struct AdjointTests {
    let tight = ODESolverOptions(relativeTolerance: 1e-11, absoluteTolerance: 1e-11)

    @Test("adjoint gradient of a linear system equals exp(Aᵀ T) g")
    func linearSystemInitialStateGradient() throws {
        // y' = A y with A = [[-0.1, 2], [-2, -0.1]]: exp(Aᵀ T) = e^{-0.1 T} [[cos 2T, -sin 2T], [sin 2T, cos 2T]].
        let transposedA = Tensor<Double>(shape: [2, 2], scalars: [-0.1, -2, 2, -0.1]).requiringGradient()
        let y0 = Tensor<Double>(shape: [1, 2], scalars: [1.5, -0.5]).requiringGradient()
        let g = Tensor<Double>(shape: [1, 2], scalars: [0.7, 1.3])
        let endTime = 1.7
        for gradient in [GradientMethod.adjoint, .backpropagation] {
            let solution = try solveODE(
                { _, y in matmul(y, transposedA) }, y0, at: [0, endTime], options: tight,
                gradient: gradient, parameters: [transposedA])
            let loss = (solution.trajectory.selecting(index: 1, alongAxis: 0) * g).sum()
            let result = gradients(of: loss, withRespectTo: [y0])[0].doubles
            let decay = Foundation.exp(-0.1 * endTime)
            let c = Foundation.cos(2 * endTime)
            let s = Foundation.sin(2 * endTime)
            let expected = [decay * (c * 0.7 - s * 1.3), decay * (s * 0.7 + c * 1.3)]
            #expect(Swift.abs(result[0] - expected[0]) < 1e-8, "\(gradient): \(result) vs \(expected)")
            #expect(Swift.abs(result[1] - expected[1]) < 1e-8, "\(gradient): \(result) vs \(expected)")
        }
    }

    @Test("adjoint, backpropagation and finite differences agree on a neural ODE")
    func neuralODEGradientsAgree() throws {
        let network = SmallNetwork(seed: 4)
        var generator = RandomGenerator(seed: 9)
        let y0 = Tensor<Double>(randomNormal: [3, 2], generator: &generator).requiringGradient()
        let times = [0.0, 0.4, 1.1, 1.5]
        let inputs = [y0] + network.parameters

        func lossAndGradients(_ method: GradientMethod) throws -> (Double, [Tensor<Double>], NeuralODESolution<Double>) {
            let solution = try solveODE(
                network.callAsFunction, y0, at: times, options: tight, gradient: method,
                parameters: network.parameters)
            let loss = weightedLoss(solution.trajectory)
            return (loss.scalar, gradients(of: loss, withRespectTo: inputs), solution)
        }

        let (adjointLoss, adjoint, adjointSolution) = try lossAndGradients(.adjoint)
        let (directLoss, direct, _) = try lossAndGradients(.backpropagation)
        try adjointSolution.backward.check()
        #expect(adjointSolution.backward.statistics.functionEvaluations > 0)
        #expect(Swift.abs(adjointLoss - directLoss) < 1e-9)

        // Central differences of the loss, one input component at a time.
        func loss(perturbing input: Int, element: Int, by delta: Double) throws -> Double {
            let perturbed = inputs.map { Tensor<Double>(shape: $0.shape, scalars: $0.scalars) }
            perturbed[input].withUnsafeMutableBufferPointer { $0[element] += delta }
            let local = SmallNetwork(copying: perturbed)
            let solution = try withoutGradients {
                try solveODE(local.callAsFunction, perturbed[0], at: times, options: tight)
            }
            return weightedLoss(solution.trajectory).scalar
        }
        for input in inputs.indices {
            for element in 0..<inputs[input].scalarCount {
                let step = 1e-6
                let numeric = (try loss(perturbing: input, element: element, by: step)
                    - loss(perturbing: input, element: element, by: -step)) / (2 * step)
                let fromAdjoint = adjoint[input].doubles[element]
                let fromBackpropagation = direct[input].doubles[element]
                let scale = 1 + Swift.abs(numeric)
                #expect(Swift.abs(fromAdjoint - numeric) < 1e-6 * scale, "input \(input)[\(element)]: adjoint \(fromAdjoint), numeric \(numeric)")
                #expect(Swift.abs(fromBackpropagation - numeric) < 1e-6 * scale, "input \(input)[\(element)]: backpropagation \(fromBackpropagation), numeric \(numeric)")
            }
        }
    }

    @Test("adjoint gradients with respect to the output times match finite differences")
    func timeGradients() throws {
        let network = SmallNetwork(seed: 6)
        var generator = RandomGenerator(seed: 2)
        let y0 = Tensor<Double>(randomNormal: [2, 2], generator: &generator)
        let timeValues = [0.2, 0.7, 1.3]
        let times = Tensor<Double>(timeValues).requiringGradient()
        let solution = try solveODE(
            { t, y in [network(t, y[0])] }, [y0], at: times, options: tight, gradient: .adjoint,
            parameters: network.parameters)
        let analytic = gradients(of: weightedLoss(solution.trajectory), withRespectTo: [times])[0].doubles

        for i in timeValues.indices {
            func loss(_ delta: Double) throws -> Double {
                var shifted = timeValues
                shifted[i] += delta
                let result = try withoutGradients {
                    try solveODE(network.callAsFunction, y0, at: shifted, options: tight)
                }
                return weightedLoss(result.trajectory).scalar
            }
            let numeric = (try loss(1e-6) - loss(-1e-6)) / 2e-6
            #expect(Swift.abs(analytic[i] - numeric) < 1e-6 * (1 + Swift.abs(numeric)), "time \(i): adjoint \(analytic[i]), numeric \(numeric)")
        }
    }

    @Test("seminorm takes fewer backward steps for the same gradient")
    func seminormSavesSteps() throws {
        let network = SmallNetwork(seed: 8)
        var generator = RandomGenerator(seed: 3)
        let y0 = Tensor<Double>(randomNormal: [4, 2], generator: &generator).requiringGradient()
        let options = ODESolverOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-8)
        var results: [(Int, [Double])] = []
        for usesSeminorm in [false, true] {
            let solution = try solveODE(
                network.callAsFunction, y0, at: [0, 2], options: options,
                gradient: .adjoint(AdjointOptions(usesSeminorm: usesSeminorm)),
                parameters: network.parameters)
            let gradient = gradients(of: weightedLoss(solution.trajectory), withRespectTo: [network.weight1])[0]
            results.append((solution.backward.statistics.functionEvaluations, gradient.doubles))
        }
        #expect(results[1].0 < results[0].0, "backward NFE: full norm \(results[0].0), seminorm \(results[1].0)")
        for (full, semi) in zip(results[0].1, results[1].1) {
            #expect(Swift.abs(full - semi) < 1e-4 * (1 + Swift.abs(full)))
        }
    }

    @Test("Float states solve and differentiate with the adjoint")
    func floatAdjoint() throws {
        let rate = Tensor<Float>([-0.5]).requiringGradient()
        let y0 = Tensor<Float>(shape: [1], scalars: [2]).requiringGradient()
        let solution = try solveODE(
            { _, y in y * rate }, y0, at: [0, 1, 2],
            options: ODESolverOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-7),
            gradient: .adjoint, parameters: [rate])
        let loss = solution.trajectory.selecting(index: 2, alongAxis: 0).sum()
        let result = gradients(of: loss, withRespectTo: [y0, rate])
        // y(2) = y0 e^{2k}: ∂/∂y0 = e^{2k}, ∂/∂k = 2 y0 e^{2k}.
        let e = Foundation.exp(Float(-1))
        #expect(Swift.abs(result[0].scalar - e) < 1e-4)
        #expect(Swift.abs(result[1].scalar - 4 * e) < 1e-4)
    }
}

extension SmallNetwork {
    /// A network whose parameters are copies of `tensors[1...]` (tensor 0 is the state).
    init(copying tensors: [Tensor<Double>]) {
        weight1 = tensors[1]
        bias1 = tensors[2]
        weight2 = tensors[3]
        bias2 = tensors[4]
    }
}
