import Foundation
import NeuralODE
import ODESolvers
import TensorEngine
import Testing

@Suite("Checkpointed adjoint")
struct CheckpointedAdjointTests {
    @Test(
        "matches backpropagation through the solver on a neural ODE",
        arguments: [1, 3])
    func matchesBackpropagation(stepsPerCheckpoint: Int) throws {
        let network = SmallNetwork(seed: 5)
        var generator = RandomGenerator(seed: 12)
        let y0 = Tensor<Double>(randomNormal: [3, 2], generator: &generator).requiringGradient()
        let inputs = [y0] + network.parameters
        let times = [0.0, 0.3, 0.8, 1.4]
        // Output times are steps of the checkpointed forward solve, so backpropagation gets
        // the same grid when they are jump times too.
        var options = ODESolverOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-8)
        options.jumpTimes = [0.3, 0.8]

        let checkpointed = try solveODE(
            network.callAsFunction, y0, at: times, options: options,
            gradient: .checkpointedAdjoint(stepsPerCheckpoint: stepsPerCheckpoint),
            parameters: network.parameters)
        let fromCheckpoints = gradients(of: weightedLoss(checkpointed.trajectory), withRespectTo: inputs)
        try checkpointed.backward.check()
        #expect(checkpointed.backward.statistics.functionEvaluations > 0)

        let direct = try solveODE(
            network.callAsFunction, y0, at: times, options: options, gradient: .backpropagation)
        let fromBackpropagation = gradients(of: weightedLoss(direct.trajectory), withRespectTo: inputs)

        for (a, b) in zip(fromCheckpoints, fromBackpropagation) {
            for (x, y) in zip(a.doubles, b.doubles) {
                #expect(Swift.abs(x - y) < 1e-9 * (1 + Swift.abs(y)), "checkpointed \(x), backpropagation \(y)")
            }
        }
    }

    @Test("stays accurate where the backward reconstruction is unstable")
    func unstableBackwards() throws {
        // y1' = -k y1, y2' = θ y1 from (1, 0): y2(T) = θ (1 - e^{-kT}) / k, so ∂y2(T)/∂θ is
        // (1 - e^{-kT}) / k = 0.05 for k = 20. Reconstructing y1 backwards from y1(T) ≈ e^{-30}
        // multiplies the solver's error in y1(T) by e^{30}, and the plain adjoint's integral
        // of y1 with it; the checkpoints keep the forward values.
        let theta = Tensor<Double>(shape: [1, 1], scalars: [1]).requiringGradient()
        let base = Tensor<Double>(shape: [2, 2], scalars: [-20, 0, 0, 0])
        let coupling = Tensor<Double>(shape: [2, 2], scalars: [0, 1, 0, 0])
        let y0 = Tensor<Double>(shape: [1, 2], scalars: [1, 0])
        let options = ODESolverOptions(relativeTolerance: 1e-7, absoluteTolerance: 1e-9)
        let exact = (1 - Foundation.exp(-30.0)) / 20
        var results: [String: Double] = [:]
        for (name, method) in [("checkpointed", GradientMethod.checkpointedAdjoint()), ("adjoint", .adjoint)] {
            let solution = try solveODE(
                { _, y in matmul(y, base + coupling * theta) }, y0, at: [0, 1.5], options: options,
                gradient: method, parameters: [theta])
            let loss = solution.trajectory.selecting(index: 1, alongAxis: 0).slice(alongAxis: 1, 1..<2).sum()
            results[name] = gradients(of: loss, withRespectTo: [theta])[0].scalar
        }
        print("∂y2(T)/∂θ: exact \(exact), checkpointed \(results["checkpointed"]!), adjoint \(results["adjoint"]!)")
        #expect(Swift.abs(results["checkpointed"]! - exact) < 1e-5 * exact)
    }

    @Test("rejects Adams, which has no tableau to re-run")
    func rejectsAdams() {
        let y0 = Tensor<Double>([1]).requiringGradient()
        #expect(throws: ODESolveError.self) {
            _ = try solveODE({ _, y in -y }, y0, at: [0, 1], method: .adams, gradient: .checkpointedAdjoint())
        }
    }
}
