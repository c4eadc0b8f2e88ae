import Datasets
import Experiments
import Foundation
import NeuralODE
import ODESolvers

/// `neuralode latent`: latent ODEs and recurrent baselines on irregularly sampled spirals
/// (Chen et al. 2018, Section 5), or on series from a CSV file.
enum LatentCommand: Command {
    static let name = "latent"
    static let synopsis = "train|eval|table2|poisson [options]"
    static let summary = """
        Train and evaluate a latent ODE or an RNN baseline on irregularly observed spirals \
        (actions: train, eval, table2, poisson); prints progress, writes checkpoints, the \
        extrapolation RMSE and pictures.
        """
    static let usageExamples = """
        actions:
          train    train one model; --resume continues from the checkpoint in --output
          eval     evaluate the checkpoint in --output and draw its pictures
          table2   train and evaluate every model at n = 30, 50, 100; writes table2.csv and table2.md
          poisson  fit a latent ODE with a Poisson-process likelihood to toy event times
        """
    static let options: [OptionSpecification] = [
        .value("model", "NAME", help: "latentode, rnn or rnn-gap", default: "latentode"),
        .value("observations", "N", help: "observations kept per training spiral, 1 to 100", default: "30"),
        .value("iterations", "N", help: "training iterations", default: "2000"),
        .value("batch-size", "N", help: "series per iteration", default: "1000"),
        .value("learning-rate", "RATE", help: "Adam learning rate", default: "0.01"),
        .value("seed", "N", help: "seed of the model, the batches and the noise", default: "0"),
        .value("data-seed", "N", help: "seed of the spirals and of the observation draws", default: "0"),
        .value("spirals", "N", help: "training spirals", default: "1000"),
        .value("test-spirals", "N", help: "held-out spirals for the RMSE", default: "200"),
        .value("noise", "STD", help: "standard deviation of the spirals' observation noise", default: "0.1"),
        .value("gradient", "METHOD", help: "adjoint or backprop, for the latent solve", default: "adjoint"),
        .value("rtol", "TOL", help: "relative tolerance of dopri5", default: "1e-3"),
        .value("atol", "TOL", help: "absolute tolerance of dopri5", default: "1e-4"),
        .value("cell", "KIND", help: "recurrent cell of the encoder and baselines: tanh or gru", default: "tanh"),
        .value("data", "CSV", help: "train on series from a CSV file (series,time,values...) instead of spirals"),
        .value("report-every", "N", help: "iterations between progress lines", default: "10"),
        .value("evaluate-every", "N", help: "iterations between test evaluations, 0 for the end only", default: "0"),
        .value("checkpoint-every", "N", help: "iterations between checkpoints", default: "100"),
        .value("observation-counts", "LIST", help: "table2: observation counts", default: "30,50,100"),
        .value("models", "LIST", help: "table2: models, comma-separated", default: "latentode,rnn,rnn-gap"),
        .value("output", "DIR", help: "folder for checkpoints, CSV files and pictures", default: "runs/latent"),
        memoryLimitOption,
        .flag("resume", help: "continue from the checkpoint in the output folder"),
        .flag("quiet", help: "print only the results"),
    ]

    static func run(_ options: ParsedOptions) throws {
        let actions = ["train", "eval", "table2", "poisson"]
        guard options.positional.count == 1, let action = options.positional.first, actions.contains(action) else {
            throw CommandLineError(
                description: "expected one action, one of \(actions.joined(separator: ", ")); got \(options.positional.isEmpty ? "none" : options.positional.joined(separator: " "))\n\n\(usageExamples)")
        }
        try rejectInapplicableOptions(options, action: action)
        let settings = try LatentCommandSettings(options)
        if action != "eval" {
            try prepareOutputFolder(settings.output, option: "output")
        }
        switch action {
        case "train": try LatentCommandActions.train(settings)
        case "eval": try LatentCommandActions.evaluate(settings)
        case "table2": try LatentCommandActions.table2(settings)
        default: try LatentCommandActions.poisson(settings)
        }
    }

    /// Options of the spiral data, which a `--data` CSV file replaces. `--noise` is not among
    /// them, because it also sets the observation standard deviation of the likelihood.
    static let spiralOptions = ["observations", "spirals", "test-spirals", "data-seed"]
    static let table2Options = ["observation-counts", "models"]

    /// Rejects options that the action would ignore, so that no ignored value is echoed as if
    /// it applied.
    static func rejectInapplicableOptions(_ options: ParsedOptions, action: String) throws {
        switch action {
        case "poisson":
            try options.reject(
                ["model", "batch-size", "cell", "data", "evaluate-every", "checkpoint-every", "resume", "memory-limit"] + spiralOptions
                    + table2Options,
                because: "to 'latent poisson', which fits its own toy event times")
        case "table2":
            try options.reject(
                ["model", "observations", "data"],
                because: "to 'latent table2', which trains every --models entry at every --observation-counts entry on spirals")
        default:
            try options.reject(table2Options, because: "to 'latent \(action)'; it belongs to 'latent table2'")
            if options.string("data") != nil {
                try options.reject(spiralOptions, because: "with --data, which replaces the spirals by the CSV series")
            }
        }
    }
}

/// The validated options of `neuralode latent`.
struct LatentCommandSettings {
    var configuration = LatentExperimentConfiguration()
    var data: LatentExperimentData = .spirals
    var output: URL
    var resume: Bool
    var quiet: Bool
    var checkpointEvery: Int
    var observationCounts: [Int]
    var models: [LatentModelKind]
    var gradientName: String

    init(_ options: ParsedOptions) throws {
        var c = LatentExperimentConfiguration()
        let modelName = try options.choice("model", default: "latentode", among: LatentModelKind.allCases.map(\.rawValue))
        c.model = LatentModelKind(rawValue: modelName)!
        c.observationCount = try options.integer("observations", default: 30, in: 1...100_000)
        c.iterations = try options.integer("iterations", default: 2000, in: 0...10_000_000)
        c.batchSize = try options.integer("batch-size", default: 1000, in: 1...10_000_000)
        c.learningRate = try options.double("learning-rate", default: 0.01)
        c.seed = UInt64(try options.integer("seed", default: 0))
        c.spirals.seed = UInt64(try options.integer("data-seed", default: 0))
        c.spirals.spiralCount = try options.integer("spirals", default: 1000, in: 1...1_000_000)
        c.testSpiralCount = try options.integer("test-spirals", default: 200, in: 1...1_000_000)
        c.spirals.noiseStandardDeviation = try options.double("noise", default: 0.1, above: 0, inclusive: true)
        c.observationStandardDeviation = max(c.spirals.noiseStandardDeviation, 0.01)
        gradientName = try options.choice("gradient", default: "adjoint", among: ["adjoint", "backprop"])
        c.gradient = gradientName == "backprop" ? .backpropagation : .adjoint
        c.relativeTolerance = try options.floatRelativeTolerance("rtol", default: 1e-3)
        c.absoluteTolerance = try options.double("atol", default: 1e-4)
        let cellName = try options.choice("cell", default: "tanh", among: RecurrentCellKind.allCases.map(\.rawValue))
        c.architecture.encoderCell = RecurrentCellKind(rawValue: cellName)!
        c.baselineCell = c.architecture.encoderCell
        c.reportEvery = try options.integer("report-every", default: 10, in: 1...10_000_000)
        c.evaluateEvery = try options.integer("evaluate-every", default: 0, in: 0...10_000_000)
        checkpointEvery = try options.integer("checkpoint-every", default: 100, in: 1...10_000_000)
        guard c.observationCount <= c.spirals.observedCount || options.string("data") != nil else {
            throw CommandLineError(
                description: "invalid value '\(c.observationCount)' for '--observations': a spiral has \(c.spirals.observedCount) observable points")
        }
        observationCounts = try options.integers("observation-counts", default: LatentTable2.observationCounts)
        for count in observationCounts where count < 1 || count > c.spirals.observedCount {
            throw CommandLineError(
                description: "invalid value '\(count)' in '--observation-counts': expected counts in 1...\(c.spirals.observedCount)")
        }
        guard !observationCounts.isEmpty, Set(observationCounts).count == observationCounts.count else {
            throw CommandLineError(
                description: "invalid value '\(options.string("observation-counts") ?? "")' for '--observation-counts': "
                    + "expected distinct counts, such as 30,50,100")
        }
        let modelNames = try options.names(
            "models", default: LatentModelKind.allCases.map(\.rawValue), among: LatentModelKind.allCases.map(\.rawValue))
        models = modelNames.map { LatentModelKind(rawValue: $0)! }
        try Self.checkMemory(options, c)
        if let path = options.string("data") {
            // A bad file is not a usage error: its message names the line to fix.
            data = .series(try TimeSeriesCSV.load(from: path), source: path)
        }
        configuration = c
        output = URL(fileURLWithPath: options.string("output", default: "runs/latent"))
        resume = options.isSet("resume")
        quiet = options.isSet("quiet")
    }
}

extension LatentCommandSettings {
    /// Rejects spiral settings whose estimated memory exceeds `--memory-limit`.
    ///
    /// The estimate counts 4-byte Float scalars: 256 per series and time point of a batch (the
    /// recurrent encoder's gates and states, the decoder's units and their gradients) over the
    /// spirals' time grid, plus 8 per point of every stored spiral. It is an order of magnitude,
    /// not a measurement. NOTE: with `--data` the length of the CSV's time grid is not known
    /// here, so the estimate uses the spirals' grid.
    static func checkMemory(_ options: ParsedOptions, _ configuration: LatentExperimentConfiguration) throws {
        let points = Double(configuration.spirals.pointsPerSpiral)
        let spiralCount = Double(configuration.spirals.spiralCount + configuration.testSpiralCount)
        let scalars = Double(configuration.batchSize) * points * 256 + spiralCount * points * 8
        try options.checkMemoryEstimate(
            bytes: scalars * 4,
            settings: "--batch-size \(configuration.batchSize), --spirals \(configuration.spirals.spiralCount), "
                + "--test-spirals \(configuration.testSpiralCount), \(Int(points)) time points per spiral")
    }
}

/// The actions of `neuralode latent`.
enum LatentCommandActions {
    /// Returns the `config` line of a run. `training: false` leaves out the options that only
    /// training reads (iterations, batch size, learning rate, gradient method).
    static func configurationLine(
        _ settings: LatentCommandSettings, _ configuration: LatentExperimentConfiguration, training: Bool = true
    ) -> String {
        let c = configuration
        var line = "config  latent model=\(c.model.rawValue) n=\(c.observationCount) "
        if training {
            line += "iterations=\(c.iterations) batch=\(c.batchSize) lr=\(c.learningRate) "
        }
        line += "seed=\(c.seed) cell=\(c.architecture.encoderCell.rawValue)"
        if c.model == .latentODE {
            if training { line += " gradient=\(settings.gradientName)" }
            line += " method=dopri5 rtol=\(c.relativeTolerance) atol=\(c.absoluteTolerance)"
        }
        switch settings.data {
        case .spirals:
            line += " data=spirals(\(c.spirals.spiralCount)+\(c.testSpiralCount), noise \(c.spirals.noiseStandardDeviation), seed \(c.spirals.seed))"
        case .series(let dataset, let source):
            line += " data=\(source) (\(dataset.series.count) series, \(dataset.channelCount) channels)"
        }
        return line
    }

    /// Trains one model into `folder`, resuming from its checkpoint when asked, and returns the
    /// experiment and the training seconds of this process.
    static func trainModel(
        _ settings: LatentCommandSettings, configuration: LatentExperimentConfiguration, folder: URL
    ) throws -> (LatentODEExperiment, Double) {
        printLine(configurationLine(settings, configuration))
        let experiment = try LatentODEExperiment(configuration: configuration, data: settings.data)
        let checkpoint = folder.appendingPathComponent("checkpoint.safetensors").path
        let lossFile = folder.appendingPathComponent("loss.csv")
        var lossRows: [String] = []
        if settings.resume {
            guard FileManager.default.fileExists(atPath: checkpoint) else {
                throw CommandLineError(description: "--resume: no checkpoint at '\(checkpoint)'; run without --resume to start")
            }
            try experiment.resume(from: checkpoint)
            printLine("resumed at iteration \(experiment.iteration) from \(checkpoint)")
            // Keep the loss rows up to the checkpoint; later ones are trained again.
            if let text = try? String(contentsOf: lossFile, encoding: .utf8) {
                lossRows = text.split(separator: "\n").dropFirst().map(String.init).filter { row in
                    Int(row.prefix { $0 != "," }).map { $0 <= experiment.iteration } ?? false
                }
            }
        }
        printLine("model   \(experiment.parameterCount) parameters, \(experiment.dataset.series.count) training series")
        let start = Date()
        do {
            try train(experiment, settings: settings, checkpoint: checkpoint, lossFile: lossFile, rows: &lossRows)
        } catch let error as ODESolveError {
            throw TrainingSolveError(when: "at iteration \(experiment.iteration + 1)", underlying: error)
        }
        return (experiment, Date().timeIntervalSince(start))
    }

    /// Trains `experiment` to its last iteration, appending a row to `rows` and rewriting
    /// `lossFile` at every report.
    private static func train(
        _ experiment: LatentODEExperiment, settings: LatentCommandSettings, checkpoint: String, lossFile: URL,
        rows lossRows: inout [String]
    ) throws {
        let configuration = experiment.configuration
        let header = "iteration,loss,log_likelihood,kl,nfe_forward,nfe_backward,ms_per_iteration,test_rmse"
        try experiment.train(checkpoint: checkpoint, checkpointEvery: settings.checkpointEvery) { progress in
            let rmse = progress.evaluation?.extrapolationRMSE ?? progress.evaluation?.reconstructionRMSE
            lossRows.append(
                "\(progress.iteration),\(progress.loss),\(progress.logLikelihood.map { "\($0)" } ?? ""),"
                    + "\(progress.klDivergence.map { "\($0)" } ?? ""),\(progress.forwardEvaluations),"
                    + "\(progress.backwardEvaluations),\(progress.secondsPerIteration * 1000),\(rmse.map { "\($0)" } ?? "")")
            try? AtomicFile.write(([header] + lossRows).joined(separator: "\n") + "\n", to: lossFile)
            guard !settings.quiet else { return }
            var line = "iter \(progress.iteration)/\(configuration.iterations) | loss \(format(progress.loss, 3))"
            if let logLikelihood = progress.logLikelihood, let kl = progress.klDivergence {
                line += " | log p \(format(logLikelihood, 2)) | KL \(format(kl, 3))"
            }
            if configuration.model == .latentODE {
                line += " | NFE f \(progress.forwardEvaluations) b \(progress.backwardEvaluations)"
            }
            line += " | \(format(progress.secondsPerIteration * 1000, 1)) ms/iter"
            if let rmse { line += " | test RMSE \(format(rmse, 4))" }
            printLine(line)
        }
    }

    static func train(_ settings: LatentCommandSettings) throws {
        let (experiment, seconds) = try trainModel(settings, configuration: settings.configuration, folder: settings.output)
        printLine("done    \(experiment.iteration) iterations, \(format(seconds, 1)) s in this run")
        printLine("wrote   \(settings.output.appendingPathComponent("checkpoint.safetensors").path)")
        printLine("wrote   \(settings.output.appendingPathComponent("loss.csv").path)")
        try report(experiment, folder: settings.output)
    }

    static func evaluate(_ settings: LatentCommandSettings) throws {
        printLine(configurationLine(settings, settings.configuration, training: false))
        let experiment = try LatentODEExperiment(configuration: settings.configuration, data: settings.data)
        let checkpoint = settings.output.appendingPathComponent("checkpoint.safetensors").path
        guard FileManager.default.fileExists(atPath: checkpoint) else {
            throw CommandLineError(description: "no checkpoint at '\(checkpoint)'; train first with 'neuralode latent train' and the same --output")
        }
        try experiment.resume(from: checkpoint)
        printLine("loaded  iteration \(experiment.iteration) from \(checkpoint)")
        try report(experiment, folder: settings.output)
    }

    /// Prints and saves the evaluation, and draws the pictures.
    static func report(_ experiment: LatentODEExperiment, folder: URL) throws {
        let evaluation = try experiment.evaluate()
        let n = experiment.configuration.observationCount
        if let rmse = evaluation.extrapolationRMSE {
            let published = LatentTable2.publishedRMSE[experiment.configuration.model]?[n]
            printLine(
                "result  extrapolation RMSE \(format(rmse, 4)) on \(evaluation.seriesCount) held-out spirals"
                    + (published.map { " (Chen et al. 2018, Table 2: \(format($0, 4)))" } ?? ""))
        }
        if let rmse = evaluation.extrapolationRMSEAgainstObservations {
            printLine("result  extrapolation RMSE against the noisy observations \(format(rmse, 4))")
        }
        if let rmse = evaluation.reconstructionRMSE {
            let what = experiment.latentModel != nil ? "reconstruction" : "one-step-ahead"
            printLine("result  \(what) RMSE at the observed points \(format(rmse, 4))")
        }
        if let rmse = evaluation.lastObservationRMSE {
            printLine("result  reference: repeating the last observation gives RMSE \(format(rmse, 4))")
        }
        let row = LatentTable2.Row(
            model: experiment.configuration.model, observationCount: n, evaluation: evaluation,
            iterations: experiment.iteration, trainingSeconds: 0, isSpiralData: experiment.spirals != nil)
        let evaluationFile = folder.appendingPathComponent("evaluation.csv")
        try AtomicFile.write(LatentTable2.csv([row]), to: evaluationFile)
        printLine("wrote   \(evaluationFile.path)")
        for picture in try LatentPictures.write(experiment, to: folder) { printLine("wrote   \(picture.path)") }
    }

    static func table2(_ settings: LatentCommandSettings) throws {
        var rows: [LatentTable2.Row] = []
        for n in settings.observationCounts {
            for model in settings.models {
                var configuration = settings.configuration
                configuration.model = model
                configuration.observationCount = n
                let folder = settings.output.appendingPathComponent("\(model.rawValue)-n\(n)")
                var runSettings = settings
                let checkpoint = folder.appendingPathComponent("checkpoint.safetensors").path
                runSettings.resume = settings.resume && FileManager.default.fileExists(atPath: checkpoint)
                let (experiment, seconds) = try trainModel(runSettings, configuration: configuration, folder: folder)
                let evaluation = try experiment.evaluate()
                rows.append(
                    LatentTable2.Row(
                        model: model, observationCount: n, evaluation: evaluation, iterations: experiment.iteration,
                        trainingSeconds: seconds))
                printLine("table2  \(model.rawValue) n=\(n): RMSE \(evaluation.extrapolationRMSE.map { format($0, 4) } ?? "–")")
                try AtomicFile.write(LatentTable2.csv(rows), to: settings.output.appendingPathComponent("table2.csv"))
                try AtomicFile.write(LatentTable2.markdown(rows), to: settings.output.appendingPathComponent("table2.md"))
                _ = try LatentPictures.write(experiment, to: folder)
            }
        }
        printLine("")
        printLine(LatentTable2.markdown(rows))
        printLine("wrote   \(settings.output.appendingPathComponent("table2.csv").path)")
        printLine("wrote   \(settings.output.appendingPathComponent("table2.md").path)")
    }

    static func poisson(_ settings: LatentCommandSettings) throws {
        var configuration = PoissonExampleConfiguration()
        configuration.iterations = settings.configuration.iterations
        configuration.learningRate = settings.configuration.learningRate
        configuration.seed = settings.configuration.seed
        configuration.gradient = settings.configuration.gradient
        configuration.relativeTolerance = settings.configuration.relativeTolerance
        configuration.absoluteTolerance = settings.configuration.absoluteTolerance
        printLine(
            "config  latent poisson series=\(configuration.seriesCount) iterations=\(configuration.iterations) "
                + "lr=\(configuration.learningRate) seed=\(configuration.seed) gradient=\(settings.gradientName) "
                + "rtol=\(configuration.relativeTolerance) atol=\(configuration.absoluteTolerance)")

        let example = PoissonExample(configuration: configuration)
        let start = Date()
        var lastReport = Date()
        var sinceReport = 0
        for iteration in stride(from: 1, through: configuration.iterations, by: 1) {
            let step = try example.trainingStep()
            sinceReport += 1
            let reportEvery = settings.configuration.reportEvery
            guard !settings.quiet, iteration % reportEvery == 0 || iteration == configuration.iterations else { continue }
            let milliseconds = Date().timeIntervalSince(lastReport) * 1000 / Double(sinceReport)
            printLine(
                "iter \(iteration)/\(configuration.iterations) | loss \(format(step.loss, 3)) | NFE f \(step.forward) "
                    + "b \(step.backward) | \(format(milliseconds, 1)) ms/iter")
            lastReport = Date()
            sinceReport = 0
        }

        printLine("done    \(configuration.iterations) iterations in \(format(Date().timeIntervalSince(start), 1)) s")
        printLine("result  mean absolute error of the learned event rate \(format(try example.rateError(), 4)) (mean rate \(configuration.baseRate))")
        printLine("wrote   \(try example.writePicture(to: settings.output).path)")
    }
}

/// Prints a line and flushes the output streams, so that progress reaches a log file as it
/// happens when the output is not a terminal.
private func printLine(_ text: String) {
    print(text)
    fflush(nil)
}
