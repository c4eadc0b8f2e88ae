import Datasets
import Foundation
import NeuralODE
import ODESolvers

/// The models of the latent time-series experiment.
public enum LatentModelKind: String, CaseIterable, Sendable {
    /// The latent ODE, trained as a variational autoencoder.
    case latentODE = "latentode"
    /// A recurrent network trained on one-step-ahead prediction.
    case rnn
    /// The same network with the time gap to the next observation as an extra input.
    case rnnGap = "rnn-gap"

    /// The name in tables and pictures.
    public var displayName: String {
        switch self {
        case .latentODE: "Latent ODE"
        case .rnn: "RNN"
        case .rnnGap: "RNN + time gap"
        }
    }
}

/// Settings of the latent time-series experiment of Chen et al., "Neural Ordinary Differential
/// Equations" (NeurIPS 2018), Section 5.1: irregularly observed spirals, reconstructed and
/// extrapolated by a latent ODE or a recurrent baseline.
///
/// The defaults follow torchdiffeq's `examples/latent_ode.py` where that paper leaves a value
/// open: full batches of all training spirals, Adam with learning rate 0.01, 2000 iterations.
public struct LatentExperimentConfiguration: Sendable {
    public var model: LatentModelKind = .latentODE
    /// Training observations kept per spiral (`n` of Table 2), out of `spirals.observedCount`.
    public var observationCount = 30
    public var iterations = 2000
    /// Series per iteration; all training series when at least their number.
    public var batchSize = 1000
    public var learningRate = 0.01
    public var seed: UInt64 = 0

    /// The spiral data; `spirals.spiralCount` spirals are for training.
    public var spirals = BidirectionalSpiralConfiguration()
    /// Further spirals from the same generator, held out for evaluation.
    public var testSpiralCount = 200

    public var architecture = LatentODEArchitecture()
    /// Hidden units of the recurrent baselines.
    public var baselineHiddenUnits = 25
    public var baselineCell: RecurrentCellKind = .tanh
    /// Standard deviation `σ` of the Gaussian observation likelihood of every model.
    public var observationStandardDeviation = 0.1

    public var method: ODEMethod = .dopri5
    public var gradient: GradientMethod = .adjoint
    /// Tolerances of the latent solve; adequate for `Float` states and observation noise of
    /// 0.1, and far looser than torchdiffeq's defaults (1e-7, 1e-9).
    public var relativeTolerance = 1e-3
    public var absoluteTolerance = 1e-4

    /// Iterations between progress reports.
    public var reportEvery = 10
    /// Iterations between evaluations on the held-out spirals; 0 evaluates only at the end.
    public var evaluateEvery = 0

    public init() {}

    /// Options of the latent solves.
    public var solverOptions: ODESolverOptions {
        ODESolverOptions(relativeTolerance: .scalar(relativeTolerance), absoluteTolerance: .scalar(absoluteTolerance))
    }

    /// The settings that fix the data and the model, stored in checkpoints so that a resumed
    /// run can check that it continues the same experiment.
    public var fingerprint: String {
        [
            "model=\(model.rawValue)", "n=\(observationCount)", "seed=\(seed)", "dataSeed=\(spirals.seed)",
            "spirals=\(spirals.spiralCount)+\(testSpiralCount)", "noise=\(spirals.noiseStandardDeviation)",
            "grid=\(spirals.gridCount)/\(spirals.observedCount)/\(spirals.extrapolatedCount)",
            "latent=\(architecture.latentDimension)", "encoder=\(architecture.encoderCell.rawValue)\(architecture.encoderHiddenUnits)",
            "dynamics=\(architecture.dynamicsHiddenLayers)x\(architecture.dynamicsHiddenUnits)\(architecture.dynamicsActivation.rawValue)",
            "decoder=\(architecture.decoderHiddenUnits)",
            "baseline=\(baselineCell.rawValue)\(baselineHiddenUnits)",
        ].joined(separator: " ")
    }
}

/// Source of the experiment's series.
public enum LatentExperimentData: Sendable {
    /// The bi-directional spirals of `configuration.spirals`, with held-out test spirals.
    case spirals
    /// Series read from a CSV file (`TimeSeriesCSV`); `source` names them in checkpoints.
    case series(IrregularTimeSeriesDataset, source: String)
}

/// One report of training progress.
public struct LatentTrainingProgress: Sendable {
    public var iteration: Int
    /// Training loss of the last batch: the negative ELBO per series for the latent ODE, the
    /// one-step-ahead negative log-likelihood per series for the baselines.
    public var loss: Double
    /// Log-likelihood term per series of the latent ODE's ELBO; `nil` for the baselines.
    public var logLikelihood: Double?
    /// KL term per series of the latent ODE's ELBO; `nil` for the baselines.
    public var klDivergence: Double?
    /// Function evaluations of the last forward solve (0 for the baselines).
    public var forwardEvaluations: Int
    /// Function evaluations of the last backward solve (0 for backpropagation and baselines).
    public var backwardEvaluations: Int
    /// Mean wall time per iteration since the previous report, in seconds.
    public var secondsPerIteration: Double
    /// Evaluation on held-out data, when one ran at this iteration.
    public var evaluation: LatentEvaluation?
}

/// Errors of the latent experiment that a caller can act on.
public enum LatentExperimentError: Error, CustomStringConvertible {
    /// A checkpoint belongs to another experiment.
    case checkpointMismatch(path: String, expected: String, found: String)
    /// A checkpoint lacks or garbles the iteration count.
    case invalidCheckpoint(path: String, reason: String)
    /// The data cannot be used by the model.
    case invalidData(reason: String)
    /// The training loss became NaN or infinite, so training stopped before saving the step.
    case nonFiniteLoss(iteration: Int, loss: Double, learningRate: Double, observationStandardDeviation: Double)

    public var description: String {
        switch self {
        case let .checkpointMismatch(path, expected, found):
            return "The checkpoint '\(path)' was written by another experiment (\(found)), not by this one (\(expected)). Use the same options as the run that wrote it, or another output folder."
        case let .invalidCheckpoint(path, reason):
            return "The checkpoint '\(path)' is invalid: \(reason). Delete it to start over."
        case let .invalidData(reason):
            return "Invalid data: \(reason)."
        case let .nonFiniteLoss(iteration, loss, learningRate, deviation):
            return "The training loss became \(loss) at iteration \(iteration), so training stopped and the last checkpoint was kept. Lower the learning rate (now \(learningRate)), check the observation noise standard deviation (now \(deviation)), or check the data for very large values."
        }
    }
}
