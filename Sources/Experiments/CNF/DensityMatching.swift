import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

/// Settings of density matching (Chen et al., NeurIPS 2018, Section 4.1 and Figure 4):
/// fitting a flow `q` to a target `p(z) ∝ exp(-U(z))` known up to its normalising constant by
/// minimising
///
/// ```
/// KL(q ‖ p) + const = E_{x∼q}[log q(x) + U(x)]
/// ```
///
/// over samples of the flow, for a planar continuous normalizing flow (Adam) and for the
/// planar normalizing flow of Rezende and Mohamed (RMSprop). Chen et al. train the CNF for
/// 10,000 iterations with Adam, the default here.
public struct DensityMatchingConfiguration: Sendable {
    public var target: TargetDensity = .u1
    /// Training iterations of the continuous flow.
    public var iterations = 10_000
    /// Training iterations of the planar flow.
    public var planarIterations = 10_000
    /// Samples per iteration, for both flows.
    public var batchSize = 512
    /// The continuous flow; `width` is its number of units `M`.
    public var model: CNFModelSettings = {
        var settings = CNFModelSettings()
        settings.width = 32
        return settings
    }()
    /// The number of planar-flow layers `K`.
    public var planarLayers = 32
    /// The learning rate of RMSprop for the planar flow.
    public var planarLearningRate = 1e-2
    /// Base samples of the fixed set on which progress reports evaluate the loss.
    public var evaluationSize = 2048
    /// Iterations between evaluations and progress reports.
    public var evaluateEvery = 100
    public var seed: UInt64 = 0

    public init() {}
}

/// Trains a continuous and a planar normalizing flow to match one target density.
public final class DensityMatching {
    public let configuration: DensityMatchingConfiguration
    public let flow: ContinuousNormalizingFlow<PlanarCNFField<Float>>
    public let planar: PlanarFlow<Float>
    public let flowOptimizer: Adam<Float>
    public let planarOptimizer: RMSprop<Float>
    /// The fixed base samples of the evaluation loss, `[evaluationSize, 2]`.
    public let evaluationPoints: Tensor<Float>

    public init(configuration: DensityMatchingConfiguration) {
        self.configuration = configuration
        var generator = RandomGenerator(seed: configuration.seed)
        flow = configuration.model.makeFlow(dimension: 2, generator: &generator, noiseSeed: configuration.seed)
        planar = PlanarFlow(layerCount: configuration.planarLayers, dimension: 2, generator: &generator)
        flowOptimizer = Adam(parameters: flow.field.namedParameters, learningRate: configuration.model.learningRate)
        planarOptimizer = RMSprop(parameters: planar.namedParameters, learningRate: configuration.planarLearningRate)
        evaluationPoints = flow.sampleBase(count: configuration.evaluationSize, generator: &generator)
    }

    // MARK: - Losses

    /// `mean(log q(x) + U(x))` over the flow's samples of the base points `z`, with the
    /// transport for its statistics.
    public func continuousFlowLoss(_ z: Tensor<Float>) throws(ODESolveError)
        -> (loss: Tensor<Float>, transport: CNFTransport<Float>)
    {
        let (samples, logDensity, transport) = try flow.sample(from: z)
        return ((logDensity + configuration.target.energy(samples)).mean(), transport)
    }

    /// `mean(log q(x) + U(x))` over the planar flow's samples of the base points `z`.
    public func planarLoss(_ z: Tensor<Float>) -> Tensor<Float> {
        let (samples, logDeterminant) = planar(z)
        let logDensity = flow.baseLogDensity(z) - logDeterminant
        return (logDensity + configuration.target.energy(samples)).mean()
    }

    // MARK: - Training

    /// Runs one Adam step of the continuous flow on fresh base samples.
    public func continuousFlowStep(iteration: Int) throws(ODESolveError) -> CNFStepResult {
        var generator = iterationGenerator(seed: configuration.seed, iteration: iteration, stream: 1)
        flow.noiseGenerator = iterationGenerator(seed: configuration.seed, iteration: iteration, stream: 2)
        let z = flow.sampleBase(count: configuration.batchSize, generator: &generator)
        let (loss, transport) = try continuousFlowLoss(z)
        return try takeOptimizerStep(loss: loss, transport: transport, optimizer: flowOptimizer)
    }

    /// Runs one RMSprop step of the planar flow on fresh base samples.
    public func planarStep(iteration: Int) -> Double {
        var generator = iterationGenerator(seed: configuration.seed, iteration: iteration, stream: 3)
        let z = flow.sampleBase(count: configuration.batchSize, generator: &generator)
        let loss = planarLoss(z)
        planarOptimizer.step(gradients: gradients(of: loss, withRespectTo: planarOptimizer.parameters))
        return Double(loss.scalar)
    }

    /// Evaluates the continuous flow's loss on the evaluation set.
    public func evaluateContinuousFlow() throws(ODESolveError) -> Double {
        flow.noiseGenerator = RandomGenerator(seed: configuration.seed ^ 0x5EED)
        return try evaluatingWithoutGradients { () throws(ODESolveError) in
            Double(try continuousFlowLoss(evaluationPoints).loss.scalar)
        }
    }

    /// Evaluates the planar flow's loss on the evaluation set.
    public func evaluatePlanarFlow() -> Double {
        withoutGradients { Double(planarLoss(evaluationPoints).scalar) }
    }

    /// Trains the continuous flow over `iterations`, reporting every `evaluateEvery`
    /// iterations and at the end, and calling `checkpoint` with each finished iteration.
    public func trainContinuousFlow(
        iterations: ClosedRange<Int>, report: (CNFTrainingProgress) -> Void,
        checkpoint: (Int) throws -> Void = { _ in }
    ) throws {
        try runTrainingLoop(
            model: "cnf", iterations: iterations, evaluateEvery: configuration.evaluateEvery,
            step: continuousFlowStep(iteration:), evaluate: evaluateContinuousFlow,
            report: report, checkpoint: checkpoint)
    }

    /// Trains the planar flow over `iterations`, like `trainContinuousFlow`.
    public func trainPlanarFlow(
        iterations: ClosedRange<Int>, report: (CNFTrainingProgress) -> Void,
        checkpoint: (Int) throws -> Void = { _ in }
    ) throws {
        try runTrainingLoop(
            model: "planar", iterations: iterations, evaluateEvery: configuration.evaluateEvery,
            step: { iteration in
                CNFStepResult(loss: planarStep(iteration: iteration), forwardEvaluations: 0, backwardEvaluations: 0)
            },
            evaluate: evaluatePlanarFlow, report: report, checkpoint: checkpoint)
    }

    // MARK: - Checkpoints

    /// The checkpoint of the continuous flow, named by the target.
    private var flowCheckpoint: CNFRunCheckpoint {
        CNFRunCheckpoint(
            runKey: "target", runName: configuration.target.rawValue,
            settings: "\(configuration.model.fingerprint) batch=\(configuration.batchSize) seed=\(configuration.seed)")
    }

    /// The checkpoint of the planar flow, named by the target.
    private var planarCheckpoint: CNFRunCheckpoint {
        CNFRunCheckpoint(
            runKey: "target", runName: configuration.target.rawValue,
            settings: "planar layers=\(configuration.planarLayers) lr=\(configuration.planarLearningRate) "
                + "batch=\(configuration.batchSize) seed=\(configuration.seed)")
    }

    /// Saves the continuous flow and its optimizer after `iteration`, atomically.
    public func saveContinuousFlow(to path: String, iteration: Int) throws {
        try flowCheckpoint.save(flow.field, optimizer: flowOptimizer, iteration: iteration, to: path)
    }

    /// Saves the planar flow and its optimizer after `iteration`, atomically.
    public func savePlanarFlow(to path: String, iteration: Int) throws {
        try planarCheckpoint.save(planar, optimizer: planarOptimizer, iteration: iteration, to: path)
    }

    /// Restores the continuous flow and its optimizer, and returns the iteration saved.
    public func loadContinuousFlow(from path: String) throws -> Int {
        try flowCheckpoint.load(into: flow.field, optimizer: flowOptimizer, from: path)
    }

    /// Restores the planar flow and its optimizer, and returns the iteration saved.
    public func loadPlanarFlow(from path: String) throws -> Int {
        try planarCheckpoint.load(into: planar, optimizer: planarOptimizer, from: path)
    }
}
