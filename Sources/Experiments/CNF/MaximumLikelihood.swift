import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

/// Settings of maximum-likelihood training of a planar continuous normalizing flow on a
/// two-dimensional toy dataset (Chen et al., NeurIPS 2018, Section 4.1 and Figure 5, which
/// use 64 hidden units on two circles and two moons).
///
/// Each iteration draws a fresh batch, integrates it from `endTime` back to `startTime`, and
/// takes an Adam step on `-mean log p(x)`.
public struct MaximumLikelihoodConfiguration: Sendable {
    public var dataset: ToyDataset = .twoCircles
    public var iterations = 1000
    public var batchSize = 512
    /// The flow; the defaults give 64 units and a hypernetwork of hidden size 32.
    public var model = CNFModelSettings()
    /// Points of the fixed held-out set, drawn from a separate stream of the seed.
    public var testSize = 5000
    /// Iterations between evaluations on the held-out set and progress reports.
    public var evaluateEvery = 100
    public var seed: UInt64 = 0

    public init() {}
}

/// Trains a planar continuous normalizing flow by maximum likelihood.
public final class MaximumLikelihoodTraining {
    public let configuration: MaximumLikelihoodConfiguration
    public let flow: ContinuousNormalizingFlow<PlanarCNFField<Float>>
    public let optimizer: Adam<Float>
    /// The held-out points, `[testSize, 2]`.
    public let testSet: Tensor<Float>

    public init(configuration: MaximumLikelihoodConfiguration) {
        self.configuration = configuration
        var generator = RandomGenerator(seed: configuration.seed)
        flow = configuration.model.makeFlow(dimension: 2, generator: &generator, noiseSeed: configuration.seed)
        optimizer = Adam(parameters: flow.field.namedParameters, learningRate: configuration.model.learningRate)
        var testGenerator = iterationGenerator(seed: configuration.seed, iteration: 0, stream: 7)
        testSet = configuration.dataset.sample(count: configuration.testSize, generator: &testGenerator)
    }

    /// Runs one Adam step on a fresh batch.
    public func trainingStep(iteration: Int) throws(ODESolveError) -> CNFStepResult {
        var generator = iterationGenerator(seed: configuration.seed, iteration: iteration, stream: 1)
        flow.noiseGenerator = iterationGenerator(seed: configuration.seed, iteration: iteration, stream: 2)
        let batch: Tensor<Float> = configuration.dataset.sample(count: configuration.batchSize, generator: &generator)
        let (logDensity, transport) = try flow.logDensity(of: batch)
        return try takeOptimizerStep(loss: -logDensity.mean(), transport: transport, optimizer: optimizer)
    }

    /// Evaluates the mean log-likelihood of the held-out set, in nats per point.
    public func heldOutLogLikelihood() throws(ODESolveError) -> Double {
        flow.noiseGenerator = RandomGenerator(seed: configuration.seed ^ 0x5EED)
        let values = try logDensity(of: testSet)
        return values.reduce(0, +) / Double(values.count)
    }

    /// Evaluates `log p(x)` at each point of `x` `[n, 2]`, with nothing recorded.
    public func logDensity(of x: Tensor<Float>) throws(ODESolveError) -> [Double] {
        try evaluatingWithoutGradients { () throws(ODESolveError) in try flow.logDensity(of: x).logDensity.doubles }
    }

    /// Trains over `iterations`, reporting the held-out negative log-likelihood as the loss
    /// every `evaluateEvery` iterations and at the end, and calling `checkpoint` with each
    /// finished iteration.
    public func train(
        iterations: ClosedRange<Int>, report: (CNFTrainingProgress) -> Void,
        checkpoint: (Int) throws -> Void = { _ in }
    ) throws {
        try runTrainingLoop(
            model: "cnf", iterations: iterations, evaluateEvery: configuration.evaluateEvery,
            step: trainingStep(iteration:), evaluate: { -(try heldOutLogLikelihood()) },
            report: report, checkpoint: checkpoint)
    }

    /// The checkpoint of this run, named by its dataset.
    private var runCheckpoint: CNFRunCheckpoint {
        CNFRunCheckpoint(
            runKey: "dataset", runName: configuration.dataset.rawValue,
            settings: "\(configuration.model.fingerprint) batch=\(configuration.batchSize) seed=\(configuration.seed)")
    }

    /// Saves the flow and its optimizer after `iteration`, atomically.
    public func save(to path: String, iteration: Int) throws {
        try runCheckpoint.save(flow.field, optimizer: optimizer, iteration: iteration, to: path)
    }

    /// Restores the flow and its optimizer, and returns the iteration saved.
    public func load(from path: String) throws -> Int {
        try runCheckpoint.load(into: flow.field, optimizer: optimizer, from: path)
    }
}
