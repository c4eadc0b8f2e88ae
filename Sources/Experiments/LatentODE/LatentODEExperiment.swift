import Datasets
import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

/// Errors of a model on held-out data. Every RMSE is over all evaluated series, times and
/// channels.
public struct LatentEvaluation: Sendable {
    /// RMSE of the predictions at the held-out times after each spiral's observations against
    /// the noise-free spiral (the "predictive RMSE" of Table 2); `nil` without held-out points.
    public var extrapolationRMSE: Double?
    /// The same against the noisy held-out observations.
    public var extrapolationRMSEAgainstObservations: Double?
    /// RMSE at the observed points of the evaluated series against their observed values: the
    /// latent ODE's reconstruction from the posterior mean, or a baseline's one-step-ahead
    /// prediction (of every observation but the first).
    public var reconstructionRMSE: Double?
    /// Extrapolation RMSE of repeating each series' last observation, a trivial reference.
    public var lastObservationRMSE: Double?
    public var seriesCount: Int

    public init(
        extrapolationRMSE: Double? = nil, extrapolationRMSEAgainstObservations: Double? = nil,
        reconstructionRMSE: Double? = nil, lastObservationRMSE: Double? = nil, seriesCount: Int
    ) {
        self.extrapolationRMSE = extrapolationRMSE
        self.extrapolationRMSEAgainstObservations = extrapolationRMSEAgainstObservations
        self.reconstructionRMSE = reconstructionRMSE
        self.lastObservationRMSE = lastObservationRMSE
        self.seriesCount = seriesCount
    }
}

/// The latent time-series experiment: data, one model (latent ODE or a recurrent baseline),
/// its optimizer, training and evaluation. Library code: progress goes to a closure.
public final class LatentODEExperiment {
    public let configuration: LatentExperimentConfiguration
    /// Training series: `observationCount` irregular points of each training spiral, or the
    /// series of a CSV file shifted to start at time 0.
    public let dataset: IrregularTimeSeriesDataset
    /// Held-out series with the same observation count; `nil` for CSV data.
    public let testDataset: IrregularTimeSeriesDataset?
    /// The generated spirals (training and test); `nil` for CSV data.
    public let spirals: BidirectionalSpirals?
    /// Indices in `spirals` of the series of `testDataset`.
    public let testSpirals: [Int]
    /// Name of the data, stored in checkpoints.
    public let dataSource: String
    public let latentModel: LatentODEModel<Float>?
    public let forecaster: RecurrentForecaster<Float>?
    public let optimizer: Adam<Float>
    /// Completed training iterations.
    public private(set) var iteration = 0
    /// The batch of all training series, built by the first full-batch iteration.
    private var fullBatch: IrregularBatch?

    /// Generates or takes the data and creates the model from `configuration.seed`.
    ///
    /// - Throws: `LatentExperimentError.invalidData` for data the model cannot use.
    public init(configuration: LatentExperimentConfiguration, data: LatentExperimentData = .spirals)
        throws(LatentExperimentError)
    {
        self.configuration = configuration
        switch data {
        case .spirals:
            var spiralSettings = configuration.spirals
            let trainingCount = spiralSettings.spiralCount
            spiralSettings.spiralCount = trainingCount + configuration.testSpiralCount
            let spirals = BidirectionalSpirals(configuration: spiralSettings)
            let subsampleSeed = mixedSeed(spiralSettings.seed, UInt64(configuration.observationCount))
            dataset = spirals.irregularObservations(
                count: configuration.observationCount, spirals: 0..<trainingCount, seed: subsampleSeed)
            testSpirals = Array(trainingCount..<spiralSettings.spiralCount)
            testDataset = configuration.testSpiralCount > 0
                ? spirals.irregularObservations(
                    count: configuration.observationCount, spirals: trainingCount..<spiralSettings.spiralCount,
                    seed: subsampleSeed)
                : nil
            self.spirals = spirals
            dataSource = "spirals(seed=\(spiralSettings.seed))"
        case .series(let series, let source):
            guard !series.series.isEmpty else { throw .invalidData(reason: "'\(source)' contains no series") }
            guard series.channelCount > 0 else { throw .invalidData(reason: "'\(source)' has no value columns") }
            dataset = series.shiftedToStartAtZero()
            testDataset = nil
            spirals = nil
            testSpirals = []
            // The checksum makes a resume notice data replaced at the same path.
            dataSource = "\(source) (checksum \(String(series.contentChecksum, radix: 16)))"
        }

        var generator = RandomGenerator(seed: configuration.seed)
        let readsMask = dataset.hasMissingValues
        switch configuration.model {
        case .latentODE:
            var architecture = configuration.architecture
            architecture.observationDimension = dataset.channelCount
            architecture.encoderReadsMask = architecture.encoderReadsMask || readsMask
            let model = LatentODEModel<Float>(architecture: architecture, generator: &generator)
            latentModel = model
            forecaster = nil
            optimizer = Adam(parameters: model.namedParameters, learningRate: configuration.learningRate)
        case .rnn, .rnnGap:
            let model = RecurrentForecaster<Float>(
                channelCount: dataset.channelCount, hiddenUnits: configuration.baselineHiddenUnits,
                cell: configuration.baselineCell, readsTimeGap: configuration.model == .rnnGap, readsMask: readsMask,
                generator: &generator)
            latentModel = nil
            forecaster = model
            optimizer = Adam(parameters: model.namedParameters, learningRate: configuration.learningRate)
        }
    }

    /// Number of trainable values of the model.
    public var parameterCount: Int { latentModel?.parameterCount ?? forecaster!.parameterCount }

    // MARK: - Training

    /// The result of one training iteration.
    public struct StepResult: Sendable {
        public var loss: Double
        public var logLikelihood: Double?
        public var klDivergence: Double?
        public var forwardEvaluations: Int
        public var backwardEvaluations: Int
    }

    /// Runs one iteration on a batch drawn from the iteration's own generator, so that a
    /// resumed run draws the same batches and noise as an uninterrupted one.
    public func trainingStep() throws(ODESolveError) -> StepResult {
        var generator = RandomGenerator(seed: mixedSeed(configuration.seed, UInt64(iteration + 1)))
        let count = dataset.series.count
        let batch: IrregularBatch
        if configuration.batchSize >= count {
            // Every iteration uses all series, so the batch is built once.
            if fullBatch == nil { fullBatch = dataset.batch(Array(0..<count)) }
            batch = fullBatch!
        } else {
            batch = dataset.batch(
                BidirectionalSpirals.sampleWithoutReplacement(configuration.batchSize, from: count, using: &generator))
        }
        let result: StepResult
        if let model = latentModel {
            result = try latentStep(model, batch: batch, generator: &generator)
        } else {
            result = baselineStep(forecaster!, batch: batch)
        }
        iteration += 1
        return result
    }

    private func latentStep(
        _ model: LatentODEModel<Float>, batch: IrregularBatch, generator: inout RandomGenerator
    ) throws(ODESolveError) -> StepResult {
        let posterior = model.encoder(observationSequence(batch))
        let initialState = LatentODEModel.sampleInitialState(
            mean: posterior.mean, logVariance: posterior.logVariance, generator: &generator)
        let solution = try model.solveLatent(
            from: initialState, at: batch.gridTimes, method: configuration.method,
            options: configuration.solverOptions, gradient: configuration.gradient)
        // Decode only the (time, series) pairs with observations.
        let latentDimension = initialState.shape[1]
        let observedStates = solution.trajectory.reshaped(to: [-1, latentDimension])
            .gather(indices: batch.observedRows)
        let elbo = LatentELBO(
            observations: batch.observedValues, mask: batch.observedMask, predictions: model.decoder(observedStates),
            series: batch.observedSeries, observationStandardDeviation: configuration.observationStandardDeviation,
            posteriorMean: posterior.mean, posteriorLogVariance: posterior.logVariance)
        let loss = elbo.loss
        let parameterGradients = gradients(of: loss, withRespectTo: optimizer.parameters)
        try solution.backward.check()
        optimizer.step(gradients: parameterGradients)
        return StepResult(
            loss: Double(loss.scalar), logLikelihood: Double(elbo.logLikelihood.mean().scalar),
            klDivergence: Double(elbo.klDivergence.mean().scalar),
            forwardEvaluations: solution.statistics.functionEvaluations,
            backwardEvaluations: solution.backward.statistics.functionEvaluations)
    }

    private func baselineStep(_ model: RecurrentForecaster<Float>, batch: IrregularBatch) -> StepResult {
        let loss = model.negativeLogLikelihood(
            batch, observationStandardDeviation: configuration.observationStandardDeviation
        ).mean()
        let parameterGradients = gradients(of: loss, withRespectTo: optimizer.parameters)
        optimizer.step(gradients: parameterGradients)
        return StepResult(
            loss: Double(loss.scalar), logLikelihood: nil, klDivergence: nil, forwardEvaluations: 0,
            backwardEvaluations: 0)
    }

    /// Trains until `configuration.iterations`, starting after the completed ones, and calls
    /// `report` every `reportEvery` iterations and after the last one. With `checkpoint`, the
    /// checkpoint is written every `checkpointEvery` iterations and after the last one.
    public func train(
        checkpoint: String? = nil, checkpointEvery: Int = 100, report: (LatentTrainingProgress) -> Void
    ) throws {
        var lastReport = Date()
        var sinceReport = 0
        while iteration < configuration.iterations {
            let step = try trainingStep()
            guard step.loss.isFinite else {
                throw LatentExperimentError.nonFiniteLoss(
                    iteration: iteration, loss: step.loss, learningRate: configuration.learningRate,
                    observationStandardDeviation: configuration.observationStandardDeviation)
            }
            sinceReport += 1
            let isLast = iteration == configuration.iterations
            // Report before saving: a run killed in between repeats the iterations after the
            // previous checkpoint, and a resume drops the reports of iterations it repeats.
            let evaluates = configuration.evaluateEvery > 0 && iteration % configuration.evaluateEvery == 0
            if iteration % configuration.reportEvery == 0 || isLast || evaluates {
                let seconds = Date().timeIntervalSince(lastReport) / Double(sinceReport)
                report(
                    LatentTrainingProgress(
                        iteration: iteration, loss: step.loss, logLikelihood: step.logLikelihood,
                        klDivergence: step.klDivergence, forwardEvaluations: step.forwardEvaluations,
                        backwardEvaluations: step.backwardEvaluations, secondsPerIteration: seconds,
                        evaluation: evaluates ? try evaluate() : nil))
                lastReport = Date()
                sinceReport = 0
            }
            if let checkpoint, iteration % checkpointEvery == 0 || isLast {
                try saveCheckpoint(to: checkpoint)
            }
        }
    }

    // MARK: - Checkpoints

    /// Writes the model, the optimizer state and the iteration count atomically, creating the
    /// folder if needed.
    public func saveCheckpoint(to path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let metadata = [
            "iteration": "\(iteration)", "experiment": configuration.fingerprint, "data": dataSource,
        ]
        if let latentModel {
            try Checkpoint.save(latentModel, optimizer: optimizer, metadata: metadata, to: path)
        } else {
            try Checkpoint.save(forecaster!, optimizer: optimizer, metadata: metadata, to: path)
        }
    }

    /// Restores the model, the optimizer and the iteration count from a checkpoint written by
    /// `saveCheckpoint` with the same configuration and data.
    ///
    /// - Throws: `LatentExperimentError` when the checkpoint belongs to another experiment,
    ///   `CheckpointError` when it cannot be read or does not fit the model.
    public func resume(from path: String) throws {
        let file = try SafetensorsFile.read(from: path)
        let expected = "\(configuration.fingerprint) data=\(dataSource)"
        let found = "\(file.metadata["experiment"] ?? "?") data=\(file.metadata["data"] ?? "?")"
        guard found == expected else {
            throw LatentExperimentError.checkpointMismatch(path: path, expected: expected, found: found)
        }
        guard let text = file.metadata["iteration"], let completed = Int(text), completed >= 0 else {
            throw LatentExperimentError.invalidCheckpoint(path: path, reason: "the iteration count is missing or not a number")
        }
        guard completed <= configuration.iterations else {
            throw LatentExperimentError.invalidCheckpoint(
                path: path,
                reason: "it has completed \(completed) iterations, more than the \(configuration.iterations) requested; "
                    + "request at least \(completed) iterations to continue it")
        }
        if let latentModel {
            try Checkpoint.restore(latentModel, optimizer: optimizer, from: file, path: path)
        } else {
            try Checkpoint.restore(forecaster!, optimizer: optimizer, from: file, path: path)
        }
        iteration = completed
    }

    // MARK: - Evaluation

    /// Builds the recognition network's input for a batch.
    public func observationSequence(_ batch: IrregularBatch) -> ObservationSequence<Float> {
        ObservationSequence(
            values: batch.steps.map(\.values),
            masks: batch.hasMissingValues ? batch.steps.map(\.mask) : nil,
            timeSincePrevious: batch.steps.map(\.timeSincePrevious),
            isPresent: batch.hasEqualLengths ? nil : batch.steps.map(\.isPresent))
    }

    /// Computes the posterior means of the initial latent states of a batch, `[batch, latent]`,
    /// without recording gradients.
    public func posteriorMean(_ batch: IrregularBatch) -> Tensor<Float> {
        guard let model = latentModel else {
            fatalError("posteriorMean: the model is a \(configuration.model.rawValue) baseline, not a latent ODE")
        }
        return withoutGradients { model.encoder(observationSequence(batch)).mean }
    }

    /// Solves the latent ODE from `initialState` `[batch, latent]` at `times` (the first is the
    /// time of the initial state) without recording gradients.
    ///
    /// - Returns: Latent states `[times, batch, latent]` and decoded means `[times, batch, channels]`.
    public func latentTrajectory(from initialState: Tensor<Float>, at times: [Double])
        throws(ODESolveError) -> (latent: Tensor<Float>, predictions: Tensor<Float>)
    {
        guard let model = latentModel else {
            fatalError("latentTrajectory: the model is a \(configuration.model.rawValue) baseline, not a latent ODE")
        }
        let previous = GradientMode.isEnabled
        GradientMode.isEnabled = false
        defer { GradientMode.isEnabled = previous }
        let (solution, predictions) = try model.solve(
            from: initialState, at: times, method: configuration.method, options: configuration.solverOptions,
            gradient: .backpropagation)
        return (solution.trajectory, predictions)
    }

    /// Encodes the batch to its posterior means and solves the latent ODE from them at
    /// `batch.gridTimes` followed by the `extraTimes` after them, without recording gradients.
    ///
    /// - Returns: The times, latent states `[times, batch, latent]` and decoded means
    ///   `[times, batch, channels]`.
    public func latentPredictions(_ batch: IrregularBatch, extraTimes: [Double] = [])
        throws(ODESolveError) -> (times: [Double], latent: Tensor<Float>, predictions: Tensor<Float>)
    {
        let times = batch.gridTimes + extraTimes.filter { $0 > batch.gridTimes.last! }
        let (latent, predictions) = try latentTrajectory(from: posteriorMean(batch), at: times)
        return (times, latent, predictions)
    }

    /// Evaluates the model on the held-out spirals, or on the training series for CSV data.
    public func evaluate() throws(ODESolveError) -> LatentEvaluation {
        let evaluated = testDataset ?? dataset
        let batch = evaluated.batch(Array(evaluated.series.indices))
        let extrapolationTimes = testDataset == nil ? [] : spirals!.extrapolationTimes
        var evaluation = LatentEvaluation(seriesCount: batch.batchSize)

        var forecast: Tensor<Float>?
        if latentModel != nil {
            let (_, _, predictions) = try latentPredictions(batch, extraTimes: extrapolationTimes)
            let gridCount = batch.gridTimes.count
            let reconstruction = predictions.slice(alongAxis: 0, 0..<gridCount)
            evaluation.reconstructionRMSE = maskedRMSE(reconstruction, batch.gridValues, mask: batch.gridMask)
            if !extrapolationTimes.isEmpty {
                forecast = predictions.slice(alongAxis: 0, gridCount..<predictions.shape[0])
            }
        } else {
            let model = forecaster!
            withoutGradients {
                if let (predicted, targets, mask) = model.oneStepPredictions(batch) {
                    evaluation.reconstructionRMSE = maskedRMSE(predicted, targets, mask: mask)
                }
                if !extrapolationTimes.isEmpty { forecast = model.forecast(batch, at: extrapolationTimes) }
            }
        }

        if let forecast, let spirals {
            let truth = spirals.extrapolationTargets(spirals: testSpirals)
            let noisy = spirals.extrapolationTargets(spirals: testSpirals, noisy: true)
            evaluation.extrapolationRMSE = rootMeanSquare(forecast, truth)
            evaluation.extrapolationRMSEAgainstObservations = rootMeanSquare(forecast, noisy)
            evaluation.lastObservationRMSE = rootMeanSquare(lastObservationForecast(batch, steps: truth.shape[0]), truth)
        }
        return evaluation
    }

    /// Repeats each series' last observation `steps` times: `[steps, batch, channels]`.
    func lastObservationForecast(_ batch: IrregularBatch, steps: Int) -> Tensor<Float> {
        let channels = batch.channelCount
        let lastRows: [Float] = (0..<batch.batchSize).flatMap { b in
            batch.steps[batch.lengths[b] - 1].values.withUnsafeBufferPointer { values in
                Array(values[(b * channels)..<((b + 1) * channels)])
            }
        }
        return Tensor(shape: [steps, batch.batchSize, channels]) { out in
            for step in 0..<steps {
                for i in 0..<lastRows.count { out[step * lastRows.count + i] = lastRows[i] }
            }
        }
    }
}

/// Root mean square of `a − b` over all entries.
func rootMeanSquare(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Double {
    precondition(a.shape == b.shape, "rootMeanSquare: shapes \(a.shape) and \(b.shape) differ")
    var total = 0.0
    a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            for i in 0..<x.count {
                let d = Double(x[i]) - Double(y[i])
                total += d * d
            }
        }
    }
    return (total / Double(max(a.scalarCount, 1))).squareRoot()
}

/// Root mean square of `a − b` over the entries where `mask` is 1.
func maskedRMSE(_ a: Tensor<Float>, _ b: Tensor<Float>, mask: Tensor<Float>) -> Double {
    precondition(
        a.shape == b.shape && mask.shape == a.shape,
        "maskedRMSE: shapes \(a.shape), \(b.shape) and mask \(mask.shape) differ")
    var total = 0.0
    var count = 0.0
    a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            mask.withUnsafeBufferPointer { m in
                for i in 0..<x.count where m[i] != 0 {
                    let d = Double(x[i]) - Double(y[i])
                    total += d * d
                    count += 1
                }
            }
        }
    }
    return count > 0 ? (total / count).squareRoot() : .nan
}

/// Mixes two values into a seed (SplitMix64's finaliser on their combination), so that runs
/// with nearby seeds and iterations draw unrelated streams.
func mixedSeed(_ a: UInt64, _ b: UInt64) -> UInt64 {
    var z = a &* 0x9E37_79B9_7F4A_7C15 &+ b &+ 0x6A09_E667_F3BC_C909
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
