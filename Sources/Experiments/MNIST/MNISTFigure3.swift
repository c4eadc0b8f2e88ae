import Datasets
import Foundation
import Plotting
import TensorEngine

/// One solver tolerance of the Figure 3 sweep, measured on a fixed batch of test images.
public struct MNISTTolerancePoint: Sendable, Equatable {
    /// Relative and absolute tolerance of dopri5.
    public var tolerance: Double
    /// Evaluations of the dynamics in the forward solve.
    public var forwardEvaluations: Int
    /// Minimum wall time of a whole forward pass of the classifier over the repeats, in seconds.
    public var seconds: Double
    /// Root-mean-square difference between the ODE block's output `h(1)` and a reference solve
    /// at a tighter tolerance, relative to the root-mean-square of the reference.
    public var numericalError: Double
    /// Fraction of the batch misclassified at this tolerance.
    public var classificationError: Double
}

/// The experiments of Figure 3 of Chen et al., "Neural Ordinary Differential Equations"
/// (NeurIPS 2018), on a trained ODE-Net. The four panels show
/// - (a) forward evaluations against the solver tolerance, and the numerical error they buy,
/// - (b) wall time of a forward pass against forward evaluations,
/// - (c) backward against forward evaluations per training step, which Chen et al. find to
///   be about half of forward,
/// - (d) forward evaluations over the course of training.
///
/// (a) and (b) come from `toleranceSweep`; (c) and (d) from the batch log a training run wrote.
public enum MNISTFigure3 {
    /// The default tolerances of the sweep, from loose to tight.
    public static let defaultTolerances = [1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5]

    /// Solves the ODE block of `model` on `images` at each tolerance with dopri5.
    ///
    /// The reference for the numerical error is a solve at a tenth of the tightest tolerance,
    /// but not below 1e-7, which is near the resolution of `Float` states.
    ///
    /// - Parameters:
    ///   - repeats: Forward passes timed per tolerance; the minimum is reported.
    /// - Precondition: `model` has an ODE block and `tolerances` is not empty.
    /// - Throws: `MNISTExperimentError.evaluationSolverFailed` naming the tolerance.
    public static func toleranceSweep(
        model: MNISTClassifier, images: Tensor<Float>, labels: [Int], tolerances: [Double], repeats: Int = 2
    ) throws -> [MNISTTolerancePoint] {
        guard let block = model.odeBlock else {
            preconditionFailure("MNISTFigure3.toleranceSweep: the \(model.kind.displayName) has no ODE block")
        }
        precondition(!tolerances.isEmpty, "MNISTFigure3.toleranceSweep: no tolerances given")
        let previousMode = GradientMode.isEnabled
        GradientMode.isEnabled = false
        let originalSolver = block.solver
        defer {
            GradientMode.isEnabled = previousMode
            block.solver = originalSolver
        }

        let features = model.downsample(images)
        func solve(_ tolerance: Double) throws -> (output: Tensor<Float>, evaluations: Int) {
            var settings = MNISTSolverSettings()
            settings.method = .dopri5
            settings.tolerance = tolerance
            block.solver = settings
            do {
                let result = try block(features)
                return (result.output, result.solution.statistics.functionEvaluations)
            } catch {
                throw MNISTExperimentError.evaluationSolverFailed(
                    context: "the tolerance sweep at tolerance \(tolerance)", underlying: error)
            }
        }

        let referenceTolerance = max(1e-7, tolerances.min()! / 10)
        let reference = try solve(referenceTolerance).output
        let referenceNorm = (reference * reference).mean().sqrt().scalar

        var points: [MNISTTolerancePoint] = []
        for tolerance in tolerances {
            let (output, evaluations) = try solve(tolerance)
            let difference = output - reference
            let error = Double((difference * difference).mean().sqrt().scalar / max(referenceNorm, .leastNormalMagnitude))
            let predictions = model.classify(features: output).argmax(alongAxis: 1)
            let wrong = zip(predictions, labels).filter { $0 != $1 }.count

            var fastest = Double.infinity
            for _ in 0..<max(1, repeats) {
                let start = monotonicSeconds()
                do {
                    _ = try model(images)
                } catch {
                    throw MNISTExperimentError.evaluationSolverFailed(
                        context: "the timed forward pass at tolerance \(tolerance)", underlying: error)
                }
                fastest = min(fastest, monotonicSeconds() - start)
            }
            points.append(
                MNISTTolerancePoint(
                    tolerance: tolerance, forwardEvaluations: evaluations, seconds: fastest,
                    numericalError: error, classificationError: Double(wrong) / Double(max(1, labels.count))))
        }
        return points
    }

    /// Writes the data as CSV and the four panels as SVG into `directory`, and returns the
    /// paths written.
    ///
    /// Files: `tolerance_sweep.csv`, `training_nfe.csv`, `figure3a_nfe_vs_tolerance.svg`,
    /// `figure3a_error_vs_nfe.svg`, `figure3b_time_vs_nfe.svg`, `figure3c_backward_vs_forward.svg`,
    /// `figure3d_nfe_over_training.svg` and all panels together in `figure3.svg`.
    /// Panel (c) is left out when the log has no backward evaluations (RK-Net).
    public static func write(
        sweep: [MNISTTolerancePoint], batchLog: [MNISTBatchRecord], batchSize: Int, to directory: String
    ) throws -> [String] {
        let folder = URL(fileURLWithPath: directory)
        var written: [String] = []
        func save(_ text: String, _ name: String) throws {
            let url = folder.appendingPathComponent(name)
            do {
                try AtomicFile.write(text, to: url)
            } catch {
                throw MNISTExperimentError.file(path: url.path, reason: "could not be written: \(error)")
            }
            written.append(url.path)
        }

        // Data.
        var sweepRows = ["tolerance,nfe_forward,forward_seconds,numerical_error,classification_error"]
        for point in sweep {
            sweepRows.append(
                "\(point.tolerance),\(point.forwardEvaluations),\(point.seconds),\(point.numericalError),"
                    + "\(point.classificationError)")
        }
        try save(sweepRows.joined(separator: "\n") + "\n", "tolerance_sweep.csv")
        let batchesPerEpoch = max(1, batchLog.map(\.batch).max() ?? 1)
        var trainingRows = ["epoch,batch,epoch_fraction,nfe_forward,nfe_backward"]
        for record in batchLog {
            trainingRows.append(
                "\(record.epoch),\(record.batch),\(trainingTime(record, batchesPerEpoch)),"
                    + "\(record.forwardEvaluations),\(record.backwardEvaluations)")
        }
        try save(trainingRows.joined(separator: "\n") + "\n", "training_nfe.csv")

        // Pictures.
        let panels = plots(sweep: sweep, batchLog: batchLog, batchSize: batchSize)
        for (name, plot) in panels {
            try save(Figure(plot).svg(), name)
        }
        try save(
            Figure(columns: 3, title: "MNIST ODE-Net: cost of the ODE block (after Chen et al. 2018, Figure 3)",
                   plots: panels.map(\.plot)).svg(),
            "figure3.svg")
        return written
    }

    /// Training progress of a batch in epochs, such as 2.5 for the middle of the third epoch.
    static func trainingTime(_ record: MNISTBatchRecord, _ batchesPerEpoch: Int) -> Double {
        Double(record.epoch - 1) + Double(record.batch) / Double(batchesPerEpoch)
    }

    /// Returns the panels, each with its file name.
    static func plots(
        sweep: [MNISTTolerancePoint], batchLog: [MNISTBatchRecord], batchSize: Int
    ) -> [(name: String, plot: Plot)] {
        let tolerances = sweep.map(\.tolerance)
        let evaluations = sweep.map { Double($0.forwardEvaluations) }

        var nfeAgainstTolerance = Plot(
            title: "(a) NFE against tolerance", xLabel: "dopri5 rtol = atol", yLabel: "forward NFE")
        nfeAgainstTolerance.xScale = .log10
        nfeAgainstTolerance.add(
            Series(label: "forward NFE, batch of \(batchSize)", x: tolerances, y: evaluations, style: .lineWithMarkers()))

        var errorAgainstNFE = Plot(
            title: "(a) Numerical error against NFE", xLabel: "forward NFE", yLabel: "relative RMS error of h(1)")
        errorAgainstNFE.yScale = .log10
        errorAgainstNFE.add(
            Series(label: "error vs. tight reference", x: evaluations, y: sweep.map(\.numericalError),
                   style: .lineWithMarkers()))

        var timeAgainstNFE = Plot(
            title: "(b) Forward time against NFE", xLabel: "forward NFE", yLabel: "forward pass time (s)")
        timeAgainstNFE.add(
            Series(label: "whole model, batch of \(batchSize)", x: evaluations, y: sweep.map(\.seconds),
                   style: .lineWithMarkers()))

        var panels: [(name: String, plot: Plot)] = [
            ("figure3a_nfe_vs_tolerance.svg", nfeAgainstTolerance),
            ("figure3a_error_vs_nfe.svg", errorAgainstNFE),
            ("figure3b_time_vs_nfe.svg", timeAgainstNFE),
        ]

        let forward = batchLog.map { Double($0.forwardEvaluations) }
        let backward = batchLog.map { Double($0.backwardEvaluations) }
        if backward.contains(where: { $0 > 0 }) {
            var backwardAgainstForward = Plot(
                title: "(c) Backward against forward NFE", xLabel: "forward NFE", yLabel: "backward NFE")
            backwardAgainstForward.addScatter(
                x: forward, y: backward, label: "training steps", size: 4, opacity: 0.3)
            let slope = zip(forward, backward).map { $0 * $1 }.reduce(0, +)
                / max(1, forward.map { $0 * $0 }.reduce(0, +))
            let span = [forward.min() ?? 0, forward.max() ?? 1]
            backwardAgainstForward.addLine(
                x: span, y: span.map { $0 * slope }, label: "least squares: backward = \(decimal(slope, 2)) x forward")
            backwardAgainstForward.addLine(
                x: span, y: span.map { $0 / 2 }, label: "backward = forward / 2", dashed: true)
            panels.append(("figure3c_backward_vs_forward.svg", backwardAgainstForward))
        }

        let batchesPerEpoch = max(1, batchLog.map(\.batch).max() ?? 1)
        let progress = batchLog.map { trainingTime($0, batchesPerEpoch) }
        var overTraining = Plot(title: "(d) NFE over training", xLabel: "training epoch", yLabel: "NFE per step")
        overTraining.addScatter(x: progress, y: forward, label: "forward, per step", size: 3, opacity: 0.25)
        let window = max(1, min(50, batchLog.count / 10))
        overTraining.addLine(x: progress, y: runningMean(forward, window: window), label: "forward, mean of \(window)")
        if backward.contains(where: { $0 > 0 }) {
            overTraining.addLine(
                x: progress, y: runningMean(backward, window: window), label: "backward, mean of \(window)",
                dashed: true)
        }
        panels.append(("figure3d_nfe_over_training.svg", overTraining))
        return panels
    }

    /// Returns the mean of each value and the `window − 1` values before it (fewer at the start).
    static func runningMean(_ values: [Double], window: Int) -> [Double] {
        var result: [Double] = []
        result.reserveCapacity(values.count)
        var sum = 0.0
        for (index, value) in values.enumerated() {
            sum += value
            if index >= window { sum -= values[index - window] }
            result.append(sum / Double(min(index + 1, window)))
        }
        return result
    }

    /// Reads the batch log of the run in `checkpointDirectory`.
    public static func readBatchLog(checkpointDirectory: String) throws -> [MNISTBatchRecord] {
        try MNISTLogFile.parse(
            MNISTExperiment.path(checkpointDirectory, MNISTExperiment.batchLogFileName),
            header: MNISTBatchRecord.csvHeader, row: MNISTBatchRecord.init(csvRow:))
    }

    /// Loads the first `count` test images of the MNIST folder `dataPath`, unaugmented and
    /// scaled to [0, 1].
    public static func testBatch(dataPath: String, count: Int) throws -> (images: Tensor<Float>, labels: [Int]) {
        let test: MNIST
        do {
            test = try MNIST.load(from: dataPath, split: .test)
        } catch {
            throw MNISTExperimentError.dataset(path: dataPath, underlying: error)
        }
        let indices = Array(0..<min(count, test.count))
        return (test.images(at: indices, normalization: .unitInterval), test.labels(at: indices))
    }
}
