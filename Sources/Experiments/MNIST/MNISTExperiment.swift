import Datasets
import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

/// Progress of an MNIST training run, reported to the caller's closure.
public enum MNISTTrainingEvent: Sendable {
    case epochStarted(epoch: Int, batchCount: Int, learningRate: Double)
    case batch(MNISTBatchRecord)
    /// Training of the epoch is done and the test images are being classified.
    case evaluating(epoch: Int)
    /// The epoch is done and its checkpoint is written.
    case epochFinished(MNISTEpochRecord)
}

/// Trains one of the MNIST classifiers of Table 1 of Chen et al. (2018), with a checkpoint
/// after every epoch from which a killed run continues exactly.
///
/// The folder `configuration.checkpointDirectory` receives:
/// - `checkpoint.safetensors`: parameters, SGD momentum buffers, learning rate and step count,
///   the number of completed epochs, and the settings that fix the data order;
/// - `batches.csv`: one `MNISTBatchRecord` per training step;
/// - `epochs.csv`: one `MNISTEpochRecord` per epoch.
///
/// A resumed run rebuilds the data order from the seed: the loader's generator is advanced by
/// drawing the orders of the completed epochs again, so the next epoch gets the same batches
/// and crops as an uninterrupted run would.
public final class MNISTExperiment {
    public let configuration: MNISTConfiguration
    public let model: MNISTClassifier
    public let optimizer: SGD<Float>
    public let schedule: PiecewiseConstantSchedule
    public let trainingSet: MNIST
    public let testSet: MNIST
    private var loader: MNISTLoader
    /// Epochs trained so far, including those of the run this one resumed.
    public private(set) var completedEpochs = 0
    public private(set) var batchLog: [MNISTBatchRecord] = []
    public private(set) var epochLog: [MNISTEpochRecord] = []

    public static let checkpointFileName = "checkpoint.safetensors"
    public static let batchLogFileName = "batches.csv"
    public static let epochLogFileName = "epochs.csv"
    /// Metadata value that marks a checkpoint written by this class.
    static let checkpointFormat = "neuralode-mnist-1"

    public var checkpointPath: String { Self.path(configuration.checkpointDirectory, Self.checkpointFileName) }
    public var batchesPerEpoch: Int { loader.batchesPerEpoch }

    /// Validates the configuration, loads the data, builds the model and, with `resume`,
    /// restores the checkpoint.
    ///
    /// - Throws: `MNISTExperimentError` for invalid settings, unreadable data, a checkpoint
    ///   that exists without `resume` (or is missing with it), or one that belongs to another
    ///   model or setting.
    public init(configuration: MNISTConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        let directory = configuration.checkpointDirectory
        let checkpointPath = Self.path(directory, Self.checkpointFileName)

        // Check the checkpoint before the slower data loading.
        var stored: SafetensorsFile?
        let exists = FileManager.default.fileExists(atPath: checkpointPath)
        if configuration.resume {
            guard exists else { throw MNISTExperimentError.checkpointMissing(path: checkpointPath) }
            let file = try Self.readCheckpoint(checkpointPath)
            try Self.checkSettings(of: file, path: checkpointPath, against: configuration)
            stored = file
        } else if exists {
            let file = try? SafetensorsFile.read(from: checkpointPath)
            let epoch = file.flatMap { Int($0.metadata["epoch"] ?? "") } ?? 0
            throw MNISTExperimentError.checkpointExists(path: checkpointPath, epoch: epoch)
        }

        // Data: pixels scaled to [0, 1] with no standardisation, as torchvision's ToTensor.
        var train: MNIST
        var test: MNIST
        do {
            train = try MNIST.load(from: configuration.dataPath, split: .train)
            test = try MNIST.load(from: configuration.dataPath, split: .test)
        } catch {
            throw MNISTExperimentError.dataset(path: configuration.dataPath, underlying: error)
        }
        if let limit = configuration.trainLimit, limit < train.count {
            train = train.subset(Array(0..<limit))
        }
        if let limit = configuration.testLimit, limit < test.count {
            test = test.subset(Array(0..<limit))
        }
        guard test.count > 0 else {
            throw MNISTExperimentError.emptyTestSet(path: configuration.dataPath)
        }
        guard train.count >= configuration.batchSize else {
            throw MNISTExperimentError.tooFewTrainingImages(count: train.count, batchSize: configuration.batchSize)
        }
        trainingSet = train
        testSet = test
        // The reference drops the last partial batch of every epoch (drop_last=True).
        loader = MNISTLoader(
            train, batchSize: configuration.batchSize, seed: Self.dataSeed(configuration.seed),
            augmentation: configuration.augmentation ? .randomCrop(padding: 4) : nil,
            normalization: .unitInterval, dropsLastPartialBatch: true)

        var generator = RandomGenerator(seed: configuration.seed)
        model = MNISTClassifier(
            kind: configuration.model, channels: configuration.channels, solver: configuration.solver,
            generator: &generator)
        optimizer = SGD(
            parameters: model.namedParameters, learningRate: configuration.initialLearningRate,
            momentum: configuration.momentum)
        schedule = PiecewiseConstantSchedule(
            initial: configuration.initialLearningRate, boundaries: configuration.decayEpochs.map(Double.init),
            factor: configuration.decayFactor)

        if let stored {
            try restore(from: stored, path: checkpointPath)
        }
    }

    /// Seed of the data order and crops, kept apart from the weight initialisation's stream.
    static func dataSeed(_ seed: UInt64) -> UInt64 { seed ^ 0x9E37_79B9_7F4A_7C15 }

    static func path(_ directory: String, _ name: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(name).path
    }

    static func readCheckpoint(_ path: String) throws -> SafetensorsFile {
        do {
            return try SafetensorsFile.read(from: path)
        } catch {
            throw MNISTExperimentError.checkpoint(error)
        }
    }

    /// Compares the settings stored in a checkpoint with the requested ones; the model first,
    /// so that a checkpoint of another model is reported as such.
    static func checkSettings(
        of file: SafetensorsFile, path: String, against configuration: MNISTConfiguration
    ) throws {
        guard file.metadata["format"] == checkpointFormat else {
            throw MNISTExperimentError.file(
                path: path,
                reason: "is not a checkpoint of 'neuralode mnist' (metadata 'format' is \(file.metadata["format"].map { "'\($0)'" } ?? "missing"))")
        }
        let requested = configuration.reproducibilityRecord
        for key in ["model"] + requested.keys.sorted().filter({ $0 != "model" }) {
            let storedValue = file.metadata[key] ?? "missing"
            if storedValue != requested[key] {
                throw MNISTExperimentError.checkpointMismatch(
                    path: path, setting: key, option: MNISTConfiguration.optionNames[key] ?? key,
                    stored: storedValue, requested: requested[key] ?? "")
            }
        }
    }

    /// Restores the model, the optimizer, the logs and the data order from a checkpoint whose
    /// settings have been checked.
    private func restore(from file: SafetensorsFile, path: String) throws {
        let metadata: [String: String]
        do {
            metadata = try Checkpoint.restore(model, optimizer: optimizer, from: file, path: path)
        } catch {
            throw MNISTExperimentError.checkpoint(error)
        }
        guard let epoch = Int(metadata["epoch"] ?? ""), epoch >= 1 else {
            throw MNISTExperimentError.file(
                path: path, reason: "has no valid 'epoch' metadata (found \(metadata["epoch"] ?? "none"))")
        }
        guard epoch < configuration.epochs else {
            throw MNISTExperimentError.nothingToResume(
                path: path, completedEpochs: epoch, requestedEpochs: configuration.epochs)
        }
        // A crash between writing the logs and the checkpoint leaves rows of one more epoch in
        // the logs. Only the epochs that the checkpoint contains are kept.
        let directory = configuration.checkpointDirectory
        batchLog = try MNISTLogFile.parse(
            Self.path(directory, Self.batchLogFileName), header: MNISTBatchRecord.csvHeader,
            row: MNISTBatchRecord.init(csvRow:)
        ).filter { $0.epoch <= epoch }
        epochLog = try MNISTLogFile.parse(
            Self.path(directory, Self.epochLogFileName), header: MNISTEpochRecord.csvHeader,
            row: MNISTEpochRecord.init(csvRow:)
        ).filter { $0.epoch <= epoch }
        completedEpochs = epoch
        for _ in 0..<epoch { _ = loader.nextEpoch() }
    }

    // MARK: - Training

    /// Trains until `configuration.epochs` epochs are complete, writing a checkpoint after each.
    public func train(report: (MNISTTrainingEvent) -> Void = { _ in }) throws {
        while completedEpochs < configuration.epochs {
            try trainEpoch(report: report)
        }
    }

    /// Trains one epoch, evaluates on the test images and writes the checkpoint and logs.
    @discardableResult
    public func trainEpoch(report: (MNISTTrainingEvent) -> Void = { _ in }) throws -> MNISTEpochRecord {
        let epochNumber = completedEpochs + 1
        let learningRate = schedule.learningRate(atEpoch: Double(completedEpochs))
        optimizer.learningRate = learningRate
        let epoch = loader.nextEpoch()
        report(.epochStarted(epoch: epochNumber, batchCount: epoch.batches.count, learningRate: learningRate))

        ProcessMemory.resetPeakResidentBytes()
        let start = monotonicSeconds()
        var records: [MNISTBatchRecord] = []
        for (index, batch) in epoch.enumerated() {
            let record = try trainingStep(
                images: batch.images, labels: batch.labels, epoch: epochNumber, batch: index + 1)
            records.append(record)
            report(.batch(record))
        }
        let trainSeconds = monotonicSeconds() - start
        let peakMemory = ProcessMemory.peakResidentBytes() ?? 0

        report(.evaluating(epoch: epochNumber))
        let evaluationStart = monotonicSeconds()
        let evaluation = try evaluate(testSet, context: "the test evaluation after epoch \(epochNumber)")
        let count = Double(records.count)
        let record = MNISTEpochRecord(
            epoch: epochNumber,
            trainLoss: records.map(\.loss).reduce(0, +) / count,
            trainAccuracy: records.map(\.accuracy).reduce(0, +) / count,
            testError: evaluation.error, testLoss: evaluation.loss,
            meanForwardEvaluations: Double(records.map(\.forwardEvaluations).reduce(0, +)) / count,
            meanBackwardEvaluations: Double(records.map(\.backwardEvaluations).reduce(0, +)) / count,
            trainSeconds: trainSeconds, testSeconds: monotonicSeconds() - evaluationStart,
            learningRate: learningRate, peakMemoryBytes: peakMemory)
        batchLog += records
        epochLog.append(record)
        completedEpochs = epochNumber
        try saveCheckpoint()
        report(.epochFinished(record))
        return record
    }

    /// Runs one step of SGD on a batch and returns its record.
    ///
    /// - Throws: `MNISTExperimentError.nonFiniteLoss` before the update when the loss is NaN
    ///   or infinite, and `solverFailed` when the forward or the adjoint solve fails.
    public func trainingStep(
        images: Tensor<Float>, labels: [Int], epoch: Int, batch: Int
    ) throws -> MNISTBatchRecord {
        let start = monotonicSeconds()
        let forward: MNISTForwardPass
        do {
            forward = try model(images)
        } catch {
            throw MNISTExperimentError.solverFailed(epoch: epoch, batch: batch, underlying: error)
        }
        let loss = crossEntropy(logits: forward.logits, labels: labels)
        let forwardSeconds = monotonicSeconds() - start
        let lossValue = loss.scalar
        guard lossValue.isFinite else {
            throw MNISTExperimentError.nonFiniteLoss(epoch: epoch, batch: batch, value: lossValue)
        }

        let parameterGradients = gradients(of: loss, withRespectTo: optimizer.parameters)
        if let solution = forward.solution {
            do {
                try solution.backward.check()
            } catch {
                throw MNISTExperimentError.solverFailed(epoch: epoch, batch: batch, underlying: error)
            }
        }
        optimizer.step(gradients: parameterGradients)

        let predictions = forward.logits.argmax(alongAxis: 1)
        let correct = zip(predictions, labels).filter { $0 == $1 }.count
        return MNISTBatchRecord(
            epoch: epoch, batch: batch, loss: Double(lossValue), accuracy: Double(correct) / Double(labels.count),
            forwardEvaluations: forward.solution?.statistics.functionEvaluations ?? 0,
            backwardEvaluations: forward.solution?.backward.statistics.functionEvaluations ?? 0,
            forwardSeconds: forwardSeconds, seconds: monotonicSeconds() - start,
            learningRate: optimizer.learningRate)
    }

    /// Classifies `dataset` in batches of `configuration.testBatchSize` without recording.
    /// `context` names the evaluation in errors.
    ///
    /// - Returns: The fraction misclassified, the mean cross-entropy and the mean forward
    ///   evaluations per batch.
    public func evaluate(_ dataset: MNIST, context: String = "evaluation") throws -> (
        error: Double, loss: Double, meanForwardEvaluations: Double
    ) {
        try Self.evaluate(model, on: dataset, batchSize: configuration.testBatchSize, context: context)
    }

    /// Classifies `dataset` with `model`; see the instance method.
    public static func evaluate(
        _ model: MNISTClassifier, on dataset: MNIST, batchSize: Int, context: String = "evaluation"
    ) throws -> (error: Double, loss: Double, meanForwardEvaluations: Double) {
        let previous = GradientMode.isEnabled
        GradientMode.isEnabled = false
        defer { GradientMode.isEnabled = previous }
        var wrong = 0
        var lossSum = 0.0
        var evaluations = 0
        var batches = 0
        for batch in dataset.batches(size: batchSize, normalization: .unitInterval) {
            let forward: MNISTForwardPass
            do {
                forward = try model(batch.images)
            } catch {
                throw MNISTExperimentError.evaluationSolverFailed(context: context, underlying: error)
            }
            let loss = crossEntropy(logits: forward.logits, labels: batch.labels, reduction: .sum)
            lossSum += Double(loss.scalar)
            let predictions = forward.logits.argmax(alongAxis: 1)
            wrong += zip(predictions, batch.labels).filter { $0 != $1 }.count
            evaluations += forward.solution?.statistics.functionEvaluations ?? 0
            batches += 1
        }
        let count = Double(max(1, dataset.count))
        return (Double(wrong) / count, lossSum / count, Double(evaluations) / Double(max(1, batches)))
    }

    // MARK: - Checkpoints

    /// Writes the logs, then the checkpoint, each atomically. A crash between the two leaves
    /// logs one epoch ahead of the checkpoint, which `resume` trims.
    public func saveCheckpoint() throws {
        let directory = configuration.checkpointDirectory
        let batchPath = Self.path(directory, Self.batchLogFileName)
        let epochPath = Self.path(directory, Self.epochLogFileName)
        do {
            try AtomicFile.write(
                MNISTLogFile.csv(header: MNISTBatchRecord.csvHeader, rows: batchLog.map(\.csvRow)),
                to: URL(fileURLWithPath: batchPath))
            try AtomicFile.write(
                MNISTLogFile.csv(header: MNISTEpochRecord.csvHeader, rows: epochLog.map(\.csvRow)),
                to: URL(fileURLWithPath: epochPath))
        } catch {
            throw MNISTExperimentError.file(path: directory, reason: "the logs could not be written: \(error)")
        }
        var metadata = configuration.reproducibilityRecord
        metadata["epoch"] = "\(completedEpochs)"
        metadata["format"] = Self.checkpointFormat
        do {
            try Checkpoint.save(model, optimizer: optimizer, metadata: metadata, to: checkpointPath)
        } catch {
            throw MNISTExperimentError.checkpoint(error)
        }
    }

    /// Loads a trained classifier for evaluation from the checkpoint in `directory`, rebuilt
    /// with the model, channels and solver settings stored there.
    ///
    /// - Throws: `MNISTExperimentError` when the file is missing, damaged, or not a checkpoint
    ///   of this program.
    public static func loadModel(fromCheckpointDirectory directory: String) throws -> (
        model: MNISTClassifier, completedEpochs: Int
    ) {
        let path = Self.path(directory, checkpointFileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw MNISTExperimentError.file(
                path: path, reason: "does not exist; train a model with 'neuralode mnist --checkpoint-dir \(directory)' first")
        }
        let file = try readCheckpoint(path)
        let metadata = file.metadata
        func value(_ key: String) throws -> String {
            guard let value = metadata[key] else {
                throw MNISTExperimentError.file(
                    path: path, reason: "has no '\(key)' metadata; it is not a checkpoint of 'neuralode mnist'")
            }
            return value
        }
        guard metadata["format"] == checkpointFormat else {
            throw MNISTExperimentError.file(path: path, reason: "is not a checkpoint of 'neuralode mnist'")
        }
        guard let kind = MNISTModelKind(rawValue: try value("model")),
            let channels = Int(try value("channels")), channels >= 1,
            let method = MNISTSolverSettings.Method(rawValue: try value("solver")),
            let tolerance = Double(try value("tolerance")), let rk4Steps = Int(try value("rk4_steps")),
            let epoch = Int(try value("epoch"))
        else {
            throw MNISTExperimentError.file(path: path, reason: "has invalid model metadata: \(metadata)")
        }
        var solver = MNISTSolverSettings()
        solver.method = method
        solver.tolerance = tolerance
        solver.rk4Steps = rk4Steps
        solver.adjointSeminorm = metadata["adjoint_seminorm"] != "false"
        var generator = RandomGenerator(seed: 0)
        let model = MNISTClassifier(kind: kind, channels: channels, solver: solver, generator: &generator)
        do {
            try Checkpoint.restore(model, from: file, path: path)
        } catch {
            throw MNISTExperimentError.checkpoint(error)
        }
        return (model, epoch)
    }

    // MARK: - Results

    /// Collects the figures of this run for Table 1.
    public func result() throws -> MNISTRunResult {
        let lastTestError: Double
        if let last = epochLog.last {
            lastTestError = last.testError
        } else {
            lastTestError = try evaluate(testSet).error
        }
        let trainSeconds = epochLog.map(\.trainSeconds)
        return MNISTRunResult(
            model: configuration.model, epochs: completedEpochs, testError: lastTestError,
            parameterCount: model.parameterCount,
            peakMemoryBytes: epochLog.map(\.peakMemoryBytes).max() ?? 0,
            secondsPerEpoch: trainSeconds.isEmpty ? 0 : trainSeconds.reduce(0, +) / Double(trainSeconds.count),
            secondsPerBatch: batchLog.isEmpty ? 0 : batchLog.map(\.seconds).reduce(0, +) / Double(batchLog.count),
            meanForwardEvaluations: Self.mean(batchLog.map { Double($0.forwardEvaluations) }),
            meanBackwardEvaluations: Self.mean(batchLog.map { Double($0.backwardEvaluations) }))
    }

    private static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}

/// Seconds on a monotonic clock, for timing.
func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
