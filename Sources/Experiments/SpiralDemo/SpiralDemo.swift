import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

/// Settings of the spiral demo: learning the dynamics of a two-dimensional spiral from
/// short windows of its trajectory.
///
/// The problem is the classic neural-ODE demonstration (torchdiffeq's `ode_demo.py`, facts
/// only): true dynamics `dy/dt = y³ A` with `A = [[-0.1, 2], [-2, -0.1]]` from `y0 = (2, 0)`,
/// observed at 1000 evenly spaced times on `[0, 25]`; a 2-50-2 tanh network applied to `y³`
/// is fitted by RMSprop on batches of 20 windows of 10 time steps, with the mean absolute error.
public struct SpiralDemoConfiguration: Sendable {
    public var iterations = 2000
    public var batchSize = 20
    public var batchTime = 10
    public var dataSize = 1000
    public var endTime = 25.0
    public var learningRate = 1e-3
    public var hiddenUnits = 50
    public var method: ODEMethod = .dopri5
    public var relativeTolerance = 1e-7
    public var absoluteTolerance = 1e-9
    public var gradient: GradientMethod = .adjoint
    /// Iterations between evaluations on the whole trajectory.
    public var evaluateEvery = 20
    public var seed: UInt64 = 0

    public init() {}
}

/// One evaluation of the model on the whole trajectory, reported during training.
public struct SpiralDemoProgress: Sendable {
    public var iteration: Int
    /// Mean absolute error over the whole trajectory, solved from `y0`.
    public var loss: Double
    /// Mean absolute error of the last training batch.
    public var batchLoss: Double
    public var forwardEvaluations: Int
    public var backwardEvaluations: Int
    /// Mean wall time per training iteration since the previous report, in seconds.
    public var secondsPerIteration: Double
}

/// The learned dynamics: a 2-50-2 tanh network applied to `y³`.
public final class SpiralDynamics: Module {
    public typealias Scalar = Float
    public let hidden: Linear<Float>
    public let output: Linear<Float>

    /// Initialises weights from a normal distribution with standard deviation 0.1 and biases
    /// at zero, as the reference demonstration does.
    public init(hiddenUnits: Int, generator: inout RandomGenerator) {
        hidden = Linear(
            weight: Tensor(randomNormal: [hiddenUnits, 2], standardDeviation: 0.1, generator: &generator),
            bias: Tensor(zeros: [hiddenUnits]))
        output = Linear(
            weight: Tensor(randomNormal: [2, hiddenUnits], standardDeviation: 0.1, generator: &generator),
            bias: Tensor(zeros: [2]))
    }

    public func callAsFunction(_ t: Double, _ y: Tensor<Float>) -> Tensor<Float> {
        output(hidden(y.pow(3), activation: .tanh))
    }
}

/// Trains `SpiralDynamics` on the spiral and reports progress.
public final class SpiralDemo {
    public let configuration: SpiralDemoConfiguration
    /// Observation times, `[dataSize]`.
    public let times: [Double]
    /// The true trajectory, `[dataSize, 1, 2]`.
    public let trueTrajectory: Tensor<Float>
    /// The values of `trueTrajectory`, read once so that drawing a batch copies no tensor.
    let trueValues: [Float]
    public let model: SpiralDynamics
    let optimizer: RMSprop<Float>
    var generator: RandomGenerator
    /// The start of the true trajectory, `[1, 2]`.
    public let initialState: Tensor<Float>

    public init(configuration: SpiralDemoConfiguration) throws(ODESolveError) {
        self.configuration = configuration
        generator = RandomGenerator(seed: configuration.seed)
        let count = configuration.dataSize
        times = (0..<count).map { configuration.endTime * Double($0) / Double(count - 1) }
        // The matrix `A` of the true dynamics `dy/dt = y³ A`.
        let matrix = Tensor<Float>(shape: [2, 2], scalars: [-0.1, 2, -2, -0.1])
        let start = Tensor<Float>(shape: [1, 2], scalars: [2, 0])
        initialState = start
        let previous = GradientMode.isEnabled
        GradientMode.isEnabled = false
        defer { GradientMode.isEnabled = previous }
        let truth = try solveODE(
            { _, y in matmul(y.pow(3), matrix) }, start, at: times,
            options: ODESolverOptions(relativeTolerance: 1e-9, absoluteTolerance: 1e-10))
        GradientMode.isEnabled = previous
        trueTrajectory = truth.trajectory
        trueValues = truth.trajectory.scalars
        model = SpiralDynamics(hiddenUnits: configuration.hiddenUnits, generator: &generator)
        optimizer = RMSprop(parameters: model.namedParameters, learningRate: configuration.learningRate)
    }

    var solverOptions: ODESolverOptions {
        ODESolverOptions(
            relativeTolerance: .scalar(configuration.relativeTolerance),
            absoluteTolerance: .scalar(configuration.absoluteTolerance))
    }

    /// Draws `batchSize` windows: their first states `[batch, 2]`, the window times, and the
    /// true states `[batchTime, batch, 2]`.
    func makeBatch() -> (Tensor<Float>, [Double], Tensor<Float>) {
        let batchSize = configuration.batchSize
        let batchTime = configuration.batchTime
        let starts = (0..<batchSize).map { _ in
            generator.nextInt(below: configuration.dataSize - batchTime)
        }
        let truth = trueValues
        let initial = Tensor<Float>(shape: [batchSize, 2]) { out in
            for (b, start) in starts.enumerated() {
                out[2 * b] = truth[2 * start]
                out[2 * b + 1] = truth[2 * start + 1]
            }
        }
        let target = Tensor<Float>(shape: [batchTime, batchSize, 2]) { out in
            for step in 0..<batchTime {
                for (b, start) in starts.enumerated() {
                    out[(step * batchSize + b) * 2] = truth[2 * (start + step)]
                    out[(step * batchSize + b) * 2 + 1] = truth[2 * (start + step) + 1]
                }
            }
        }
        return (initial, Array(times[0..<batchTime]), target)
    }

    /// Runs one training iteration and returns the batch loss and the forward and backward
    /// function evaluations.
    public func trainingStep() throws(ODESolveError) -> (loss: Double, forward: Int, backward: Int) {
        let (initial, batchTimes, target) = makeBatch()
        let solution = try solveODE(
            model.callAsFunction, initial, at: batchTimes, method: configuration.method,
            options: solverOptions, gradient: configuration.gradient, parameters: model.parameters)
        let loss = (solution.trajectory - target).abs().mean()
        let parameterGradients = gradients(of: loss, withRespectTo: model.parameters)
        try solution.backward.check()
        optimizer.step(gradients: parameterGradients)
        return (
            Double(loss.scalar), solution.statistics.functionEvaluations,
            solution.backward.statistics.functionEvaluations
        )
    }

    /// Solves the learned dynamics over the whole time span from `y0`; `[dataSize, 1, 2]`.
    public func predictedTrajectory() throws(ODESolveError) -> Tensor<Float> {
        let previous = GradientMode.isEnabled
        GradientMode.isEnabled = false
        defer { GradientMode.isEnabled = previous }
        return try solveODE(
            model.callAsFunction, initialState, at: times, method: configuration.method,
            options: solverOptions
        ).trajectory
    }

    /// Mean absolute error of the learned trajectory against the true one.
    public func evaluate() throws(ODESolveError) -> Double {
        let predicted = try predictedTrajectory()
        return withoutGradients { Double((predicted - trueTrajectory).abs().mean().scalar) }
    }

    /// Trains for the configured iterations, calling `report` after every evaluation.
    public func train(report: (SpiralDemoProgress) -> Void) throws(ODESolveError) {
        var lastReportTime = Date()
        var iterationsSinceReport = 0
        for iteration in 1...configuration.iterations {
            let step = try trainingStep()
            iterationsSinceReport += 1
            if iteration % configuration.evaluateEvery == 0 || iteration == configuration.iterations {
                let elapsed = Date().timeIntervalSince(lastReportTime)
                let progress = SpiralDemoProgress(
                    iteration: iteration, loss: try evaluate(), batchLoss: step.loss,
                    forwardEvaluations: step.forward, backwardEvaluations: step.backward,
                    secondsPerIteration: elapsed / Double(iterationsSinceReport))
                report(progress)
                lastReportTime = Date()
                iterationsSinceReport = 0
            }
        }
    }
}
