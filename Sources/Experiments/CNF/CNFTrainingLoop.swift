import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

/// Takes one optimizer step on the gradient of a flow's loss, after checking that the backward
/// solve succeeded, and returns the loss with the forward and backward evaluations.
///
/// - Throws: `ODESolveError` from the backward solve, and then the parameters stay unchanged.
func takeOptimizerStep(
    loss: Tensor<Float>, transport: CNFTransport<Float>, optimizer: Optimizer<Float>
) throws(ODESolveError) -> CNFStepResult {
    let parameterGradients = gradients(of: loss, withRespectTo: optimizer.parameters)
    try transport.solution.backward.check()
    optimizer.step(gradients: parameterGradients)
    return CNFStepResult(
        loss: Double(loss.scalar), forwardEvaluations: transport.solution.statistics.functionEvaluations,
        backwardEvaluations: transport.solution.backward.statistics.functionEvaluations)
}

/// Runs `body` with recording off, for evaluations whose solves throw `ODESolveError`.
func evaluatingWithoutGradients<Result>(
    _ body: () throws(ODESolveError) -> Result
) throws(ODESolveError) -> Result {
    let previous = GradientMode.isEnabled
    GradientMode.isEnabled = false
    defer { GradientMode.isEnabled = previous }
    return try body()
}

/// Runs `step` for every iteration in `iterations`, calls `checkpoint` after each, and reports
/// progress every `evaluateEvery` iterations and after the last one. `evaluate` returns the loss of
/// a report, and its time is left out of `secondsPerIteration`.
func runTrainingLoop(
    model: String, iterations: ClosedRange<Int>, evaluateEvery: Int,
    step: (Int) throws -> CNFStepResult, evaluate: () throws -> Double,
    report: (CNFTrainingProgress) -> Void, checkpoint: (Int) throws -> Void
) throws {
    var clock = ProgressClock()
    for iteration in iterations {
        let result = try step(iteration)
        guard result.loss.isFinite else {
            throw CNFTrainingError.nonFiniteLoss(model: model, iteration: iteration, loss: result.loss)
        }
        clock.tick()
        try checkpoint(iteration)
        if iteration % evaluateEvery == 0 || iteration == iterations.upperBound {
            let seconds = clock.secondsPerIteration()
            report(
                CNFTrainingProgress(
                    model: model, iteration: iteration, iterations: iterations.upperBound, loss: try evaluate(),
                    batchLoss: result.loss, forwardEvaluations: result.forwardEvaluations,
                    backwardEvaluations: result.backwardEvaluations, secondsPerIteration: seconds))
            clock.restart()
        }
    }
}

/// The checkpoint of one training run: the model and its optimizer, with metadata that names
/// the run (such as `dataset` = `circles`) and the last finished iteration.
struct CNFRunCheckpoint {
    /// The metadata key that names the run, `dataset` or `target`.
    let runKey: String
    /// The run's name under `runKey`. A checkpoint saved under another name is rejected.
    let runName: String
    /// The settings of the run, such as `CNFModelSettings.fingerprint`. A checkpoint saved with
    /// other settings is rejected.
    let settings: String

    /// Saves `model` and `optimizer` after `iteration`, atomically.
    func save<Model: Module>(
        _ model: Model, optimizer: Optimizer<Model.Scalar>, iteration: Int, to path: String
    ) throws {
        try Checkpoint.save(
            model, optimizer: optimizer, metadata: ["iteration": "\(iteration)", runKey: runName, "settings": settings], to: path)
    }

    /// Restores `model` and `optimizer`, and returns the iteration saved.
    ///
    /// - Throws: `CheckpointError` when the file cannot be read or does not fit the model, and
    ///   `CNFCheckpointError` when its iteration is missing or it belongs to another run.
    func load<Model: Module>(into model: Model, optimizer: Optimizer<Model.Scalar>, from path: String) throws -> Int {
        let metadata = try Checkpoint.load(into: model, optimizer: optimizer, from: path)
        guard let text = metadata["iteration"], let iteration = Int(text), iteration >= 0 else {
            throw CNFCheckpointError.missingIteration(path: path)
        }
        if let saved = metadata[runKey], saved != runName {
            throw CNFCheckpointError.otherRun(path: path, expected: runName, found: saved)
        }
        let savedSettings = metadata["settings"] ?? "none recorded"
        guard savedSettings == settings else {
            throw CNFCheckpointError.otherSettings(path: path, expected: settings, found: savedSettings)
        }
        return iteration
    }
}

/// A checkpoint that loads but does not belong to the run that resumes from it.
public enum CNFCheckpointError: Error, CustomStringConvertible {
    case missingIteration(path: String)
    case otherRun(path: String, expected: String, found: String)
    case otherSettings(path: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .missingIteration(let path):
            "checkpoint \(path) has no valid 'iteration' metadata entry; delete it or run without --resume"
        case let .otherRun(path, expected, found):
            "checkpoint \(path) was saved for '\(found)', not '\(expected)'; use another --output folder"
        case let .otherSettings(path, expected, found):
            "checkpoint \(path) was saved with the settings '\(found)', not '\(expected)'; "
                + "resume with the settings of the run that saved it, or use another --output folder"
        }
    }
}

/// A training run that cannot go on.
public enum CNFTrainingError: Error, CustomStringConvertible {
    /// The loss of a training batch became NaN or infinite. The step's checkpoint is not saved.
    case nonFiniteLoss(model: String, iteration: Int, loss: Double)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(model, iteration, loss):
            "the \(model) training loss became \(loss) at iteration \(iteration), so training stopped and "
                + "the last checkpoint was kept; lower the learning rate, or bring the base distribution's "
                + "standard deviation closer to the data's scale"
        }
    }
}
