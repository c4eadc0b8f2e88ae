import Datasets
import NeuralNetworks
import ODESolvers

/// A failure of an MNIST experiment, with the value at fault and what to do about it.
public enum MNISTExperimentError: Error, CustomStringConvertible {
    /// A setting is out of its valid range.
    case invalidConfiguration(String)
    /// The data folder could not be read.
    case dataset(path: String, underlying: DatasetError)
    /// With `--limit-train N`, fewer images than one batch remain.
    case tooFewTrainingImages(count: Int, batchSize: Int)
    /// The test files contain no images, so no test error can be measured.
    case emptyTestSet(path: String)
    /// The folder already contains a checkpoint and `--resume` was not given.
    case checkpointExists(path: String, epoch: Int)
    /// `--resume` was given but the folder contains no checkpoint.
    case checkpointMissing(path: String)
    /// The checkpoint belongs to another model or another setting.
    case checkpointMismatch(path: String, setting: String, option: String, stored: String, requested: String)
    /// The checkpoint has already trained for the requested number of epochs or more.
    case nothingToResume(path: String, completedEpochs: Int, requestedEpochs: Int)
    /// Reading or writing the checkpoint failed.
    case checkpoint(CheckpointError)
    /// A log or result file could not be read, parsed or written.
    case file(path: String, reason: String)
    /// The loss of a training batch was NaN or infinite.
    case nonFiniteLoss(epoch: Int, batch: Int, value: Float)
    /// The ODE solve of a training batch failed, forwards or backwards.
    case solverFailed(epoch: Int, batch: Int, underlying: ODESolveError)
    /// The ODE solve failed outside training (evaluation, Figure 3 sweeps).
    case evaluationSolverFailed(context: String, underlying: ODESolveError)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message):
            return "invalid MNIST configuration: \(message)"
        case let .dataset(path, underlying):
            return "cannot read MNIST from '\(path)' (--data): \(underlying)"
        case let .tooFewTrainingImages(count, batchSize):
            return "only \(count) training images for batches of \(batchSize); "
                + "raise --limit-train to at least \(batchSize) or lower --batch-size (full batches only, as in the reference)"
        case .emptyTestSet(let path):
            return "the test files t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz) in '\(path)' (--data) "
                + "contain no images, so no test error can be measured; use the 10,000-image MNIST test set"
        case let .checkpointExists(path, epoch):
            return "'\(path)' already contains a checkpoint after epoch \(epoch); "
                + "pass --resume to continue it, or choose another --checkpoint-dir"
        case .checkpointMissing(let path):
            return "--resume was given but there is no checkpoint at '\(path)'; "
                + "start without --resume, or point --checkpoint-dir at the folder of the run to continue"
        case let .checkpointMismatch(path, setting, option, stored, requested):
            let fix: String
            if option.hasPrefix("--no-") {
                fix = "add or remove \(option)"
            } else if stored == "all" {
                fix = "remove \(option)"
            } else {
                fix = "pass \(option) \(stored)"
            }
            return "the checkpoint '\(path)' was trained with \(setting) = \(stored), but this run asks for \(requested); "
                + "\(fix) to match it, or use another --checkpoint-dir"
        case let .nothingToResume(path, completed, requested):
            return "the checkpoint '\(path)' has already completed epoch \(completed), and --epochs is \(requested); "
                + "raise --epochs above \(completed) to train further"
        case .checkpoint(let error):
            return "\(error)"
        case let .file(path, reason):
            return "'\(path)': \(reason)"
        case let .nonFiniteLoss(epoch, batch, value):
            return "the training loss is \(value) at epoch \(epoch), batch \(batch); "
                + "lower --learning-rate or tighten --tol, then start again or --resume from the last checkpoint"
        case let .solverFailed(epoch, batch, underlying):
            return "the ODE solve failed at epoch \(epoch), batch \(batch): \(underlying)"
        case let .evaluationSolverFailed(context, underlying):
            return "the ODE solve failed during \(context): \(underlying)"
        }
    }
}
