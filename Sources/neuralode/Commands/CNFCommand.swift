import Experiments
import Foundation
import NeuralODE
import ODESolvers
import Plotting

/// `neuralode cnf match|fit`: continuous normalizing flows (Chen et al., NeurIPS 2018,
/// Section 4).
enum CNFCommand: Command {
    static let name = "cnf"
    static let synopsis = "match|fit [options]"
    static let summary = """
        Continuous normalizing flows, run as 'neuralode cnf match|fit [options]'. 'match' \
        fits a planar CNF (Adam) and a planar normalizing flow (RMSprop) to the 2-D energy \
        functions of Rezende and Mohamed (2015) by minimising KL(q||p) (Figure 4 of Chen et \
        al. 2018); 'fit' trains a planar CNF by maximum likelihood on a 2-D toy dataset and \
        reports the held-out log-likelihood (Figure 5). Both print progress, save checkpoints \
        and write PNG pictures of the densities and samples.
        """

    static let options: [OptionSpecification] = [
        .value("iterations", "N", help: "CNF training iterations (match: 10000, fit: 1000)"),
        .value("batch-size", "N", help: "points per iteration", default: "512"),
        .value("width", "M", help: "planar units of the CNF dynamics (match: 32, fit: 64)"),
        .value("hidden", "H", help: "hidden size of the CNF's hypernetwork", default: "32"),
        .value("learning-rate", "RATE", help: "Adam learning rate of the CNF", default: "0.001"),
        .value("trace", "METHOD", help: "exact, closed-form, hutchinson-gaussian or hutchinson-rademacher", default: "exact"),
        .value("gradient", "METHOD", help: "adjoint or backprop", default: "adjoint"),
        .value("rtol", "TOL", help: "relative tolerance of dopri5", default: "1e-5"),
        .value("atol", "TOL", help: "absolute tolerance of dopri5", default: "1e-5"),
        .value("end-time", "T", help: "the flow runs from t = 0 (base) to t = T (data)", default: "10"),
        .value("base-std", "SIGMA", help: "standard deviation of the normal base distribution", default: "1"),
        .value("targets", "LIST", help: "match: comma-separated target densities among u1, u2, u3, u4", default: "u1,u2,u3"),
        .value("planar-iterations", "N", help: "match: planar-flow training iterations", default: "10000"),
        .value("planar-layers", "K", help: "match: planar-flow layers (default: the CNF width)"),
        .value("planar-learning-rate", "RATE", help: "match: RMSprop learning rate of the planar flow", default: "0.01"),
        .value("dataset", "NAME", help: "fit: circles, moons, 8gaussians, pinwheel or checkerboard", default: "circles"),
        .value("test-size", "N", help: "fit: held-out points", default: "5000"),
        .value("evaluate-every", "N", help: "iterations between evaluations and progress lines", default: "100"),
        .value("checkpoint-every", "N", help: "iterations between checkpoints; 0 saves only at the end", default: "1000"),
        .flag("resume", help: "continue from the checkpoints in the output folder, if any"),
        .value("seed", "N", help: "random seed", default: "0"),
        .value("output", "DIR", help: "folder for checkpoints, pictures and the loss CSV (match: runs/cnf-match, fit: runs/cnf-fit)"),
        memoryLimitOption,
        .flag("quiet", help: "print only the final results"),
    ]

    static let matchOnlyOptions = ["targets", "planar-iterations", "planar-layers", "planar-learning-rate"]
    static let fitOnlyOptions = ["dataset", "test-size"]

    static func run(_ options: ParsedOptions) throws {
        guard options.positional.count == 1, let mode = options.positional.first, ["match", "fit"].contains(mode) else {
            let given = options.positional.isEmpty ? "none" : options.positional.map { "'\($0)'" }.joined(separator: " ")
            throw CommandLineError(description: "expected one mode, 'match' or 'fit', got \(given)")
        }
        let excluded = mode == "match" ? fitOnlyOptions : matchOnlyOptions
        if let stray = excluded.first(where: { options.string($0) != nil }) {
            throw CommandLineError(description: "option '--\(stray)' applies to 'cnf \(mode == "match" ? "fit" : "match")' only")
        }
        if mode == "match" {
            try runMatch(options)
        } else {
            try runFit(options)
        }
    }

    // MARK: - Shared options

    struct RunSettings {
        var checkpointEvery: Int
        var resume: Bool
        var quiet: Bool
        var output: URL
    }

    static func modelSettings(_ options: ParsedOptions, defaultWidth: Int) throws -> CNFModelSettings {
        var model = CNFModelSettings()
        model.width = try options.integer("width", default: defaultWidth, in: 1...100_000)
        model.hiddenSize = try options.integer("hidden", default: 32, in: 1...100_000)
        model.learningRate = try options.double("learning-rate", default: 1e-3)
        model.relativeTolerance = try options.floatRelativeTolerance("rtol", default: 1e-5)
        model.absoluteTolerance = try options.double("atol", default: 1e-5)
        model.endTime = try options.double("end-time", default: 10)
        model.baseStandardDeviation = try options.double("base-std", default: 1)
        switch try options.choice(
            "trace", default: "exact", among: ["exact", "closed-form", "hutchinson-gaussian", "hutchinson-rademacher"])
        {
        case "closed-form": model.traceEstimator = .closedForm
        case "hutchinson-gaussian": model.traceEstimator = .hutchinson(.gaussian)
        case "hutchinson-rademacher": model.traceEstimator = .hutchinson(.rademacher)
        default: model.traceEstimator = .exact
        }
        let gradient = try options.choice("gradient", default: "adjoint", among: ["adjoint", "backprop"])
        model.gradient = gradient == "backprop" ? .backpropagation : .adjoint
        return model
    }

    static func runSettings(_ options: ParsedOptions, defaultOutput: String) throws -> RunSettings {
        RunSettings(
            checkpointEvery: try options.integer("checkpoint-every", default: 1000, in: 0...100_000_000),
            resume: options.isSet("resume"), quiet: options.isSet("quiet"),
            output: URL(fileURLWithPath: options.string("output", default: defaultOutput)))
    }

    /// Rejects settings whose estimated memory exceeds `--memory-limit`, before any allocation.
    ///
    /// The estimate counts 4-byte Float scalars: the parameters four times (values, gradients
    /// and Adam's two moments), and 16 scalars per point and planar unit for the activations of
    /// one evaluation of the dynamics and its vector-Jacobian product. It is an estimate of the
    /// order of magnitude, not a measurement; backpropagation through the solver stores every
    /// step and needs more.
    static func checkMemory(_ options: ParsedOptions, model: CNFModelSettings, points: Int, planarLayers: Int) throws {
        let width = Double(model.width)
        let hidden = Double(model.hiddenSize)
        // The hypernetwork: time -> hidden -> hidden -> (3 · width · dimension + width) with dimension 2.
        let parameters = hidden * 2 + hidden * (hidden + 1) + (hidden + 1) * 7 * width
        let planarParameters = Double(planarLayers) * 5
        let scalars = 4 * (parameters + planarParameters) + 16 * Double(points) * max(width, Double(planarLayers))
        var settings = "--width \(model.width), --hidden \(model.hiddenSize), \(points) points per batch from --batch-size"
        settings += planarLayers > 0 ? ", --planar-layers \(planarLayers)" : " or --test-size"
        try options.checkMemoryEstimate(bytes: scalars * 4, settings: settings)
    }

    static func describe(_ model: CNFModelSettings, _ options: ParsedOptions) -> String {
        "width=\(model.width) hidden=\(model.hiddenSize) t=[0, \(model.endTime)] base-std=\(model.baseStandardDeviation) "
            + "trace=\(options.string("trace", default: "exact")) gradient=\(options.string("gradient", default: "adjoint")) "
            + "method=dopri5 rtol=\(model.relativeTolerance) atol=\(model.absoluteTolerance) lr=\(model.learningRate)"
    }

    /// Restores a checkpoint when `--resume` is set and the file exists, and returns the first
    /// iteration still to run.
    static func resumePoint(
        _ settings: RunSettings, path: String, iterations: Int, option: String, load: (String) throws -> Int
    ) throws -> Int {
        guard settings.resume, FileManager.default.fileExists(atPath: path) else { return 1 }
        let saved = try load(path)
        guard saved <= iterations else {
            throw CommandLineError(
                description: "the checkpoint \(path) has completed \(saved) iterations, more than --\(option) \(iterations); "
                    + "raise --\(option) to at least \(saved) to continue it, or use another --output")
        }
        if !settings.quiet { emit("resume  \(path) after iteration \(saved)") }
        return saved + 1
    }

    /// A checkpoint callback that saves every `checkpointEvery` iterations and at `last`.
    static func checkpointing(_ settings: RunSettings, last: Int, save: @escaping (Int) throws -> Void) -> (Int) throws -> Void {
        { iteration in
            let periodic = settings.checkpointEvery > 0 && iteration % settings.checkpointEvery == 0
            if periodic || iteration == last { try save(iteration) }
        }
    }

    static func progressLine(_ label: String, _ progress: CNFTrainingProgress) -> String {
        var line = "\(label) iter \(progress.iteration)/\(progress.iterations) | loss \(format(progress.loss, 4)) "
            + "| batch \(format(progress.batchLoss, 4)) "
        if progress.model == "cnf" {
            line += "| NFE f \(progress.forwardEvaluations) b \(progress.backwardEvaluations) "
        }
        return line + "| \(format(progress.secondsPerIteration * 1000, 2)) ms/iter"
    }

    static func csvLine(_ label: String, _ progress: CNFTrainingProgress) -> String {
        "\(label),\(progress.model),\(progress.iteration),\(progress.loss),\(progress.batchLoss),"
            + "\(progress.forwardEvaluations),\(progress.backwardEvaluations),\(progress.secondsPerIteration * 1000)"
    }

    static let csvHeader = "run,model,iteration,loss,batch_loss,nfe_forward,nfe_backward,ms_per_iteration"

    /// The rows of `losses.csv`, written again after every report so that a killed run keeps
    /// them. A resumed run starts from the rows in the file and drops those of the iterations
    /// it trains again.
    struct LossLog {
        let url: URL
        private(set) var rows: [String] = []

        init(url: URL, resuming: Bool) {
            self.url = url
            if resuming, let text = try? String(contentsOf: url, encoding: .utf8) {
                rows = text.split(separator: "\n").dropFirst().map(String.init)
            }
        }

        /// Drops the rows of `run` and `model` from `iteration` on.
        mutating func dropRows(run: String, model: String, from iteration: Int) {
            rows.removeAll { row in
                let fields = row.split(separator: ",", maxSplits: 3, omittingEmptySubsequences: false)
                guard fields.count >= 3, fields[0] == run, fields[1] == model, let saved = Int(fields[2]) else {
                    return false
                }
                return saved >= iteration
            }
        }

        mutating func append(_ label: String, _ progress: CNFTrainingProgress) throws {
            rows.append(csvLine(label, progress))
            try write()
        }

        func write() throws {
            try AtomicFile.write(([csvHeader] + rows).joined(separator: "\n") + "\n", to: url)
        }
    }

    // MARK: - match

    static func runMatch(_ options: ParsedOptions) throws {
        var configuration = DensityMatchingConfiguration()
        configuration.model = try modelSettings(options, defaultWidth: 32)
        configuration.iterations = try options.integer("iterations", default: 10_000, in: 0...100_000_000)
        configuration.planarIterations = try options.integer("planar-iterations", default: 10_000, in: 0...100_000_000)
        configuration.planarLayers = try options.integer("planar-layers", default: configuration.model.width, in: 1...100_000)
        configuration.planarLearningRate = try options.double("planar-learning-rate", default: 1e-2)
        configuration.batchSize = try options.integer("batch-size", default: 512, in: 1...10_000_000)
        configuration.evaluateEvery = try options.integer("evaluate-every", default: 100, in: 1...100_000_000)
        configuration.seed = UInt64(try options.integer("seed", default: 0))
        let targetNames = options.string("targets", default: "u1,u2,u3")
            .split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var targets: [TargetDensity] = []
        for name in targetNames {
            guard !name.isEmpty else {
                throw CommandLineError(
                    description: "invalid value '\(options.string("targets") ?? "")' for '--targets': it contains an empty item; "
                        + "separate the names by single commas, such as u1,u2,u3")
            }
            do {
                targets.append(try TargetDensity(named: name))
            } catch {
                throw CommandLineError(description: "invalid value for '--targets': \(error)")
            }
        }
        guard !targets.isEmpty else {
            throw CommandLineError(description: "invalid value for '--targets': expected at least one of u1, u2, u3, u4")
        }
        if let repeated = targets.first(where: { target in targets.filter { $0 == target }.count > 1 }) {
            throw CommandLineError(
                description: "invalid value '\(options.string("targets") ?? "")' for '--targets': '\(repeated.rawValue)' is listed twice; "
                    + "list each target once")
        }
        try checkMemory(
            options, model: configuration.model, points: configuration.batchSize,
            planarLayers: configuration.planarLayers)
        let settings = try runSettings(options, defaultOutput: "runs/cnf-match")
        try prepareOutputFolder(settings.output, option: "output")

        emit(
            "config  cnf match targets=\(targets.map(\.rawValue).joined(separator: ",")) iterations=\(configuration.iterations) "
                + "batch=\(configuration.batchSize) \(describe(configuration.model, options)) "
                + "planar-layers=\(configuration.planarLayers) planar-iterations=\(configuration.planarIterations) "
                + "planar-lr=\(configuration.planarLearningRate) seed=\(configuration.seed)")
        let csvURL = settings.output.appendingPathComponent("losses.csv")
        var log = LossLog(url: csvURL, resuming: settings.resume)
        var rows: [(target: TargetDensity, panels: [RasterImage])] = []
        var summary: [String] = []
        var checkpoints: [String] = []
        for target in targets {
            configuration.target = target
            let matching = DensityMatching(configuration: configuration)
            let planarPath = settings.output.appendingPathComponent("match-\(target.rawValue)-planar.safetensors").path
            let flowPath = settings.output.appendingPathComponent("match-\(target.rawValue)-cnf.safetensors").path
            try FileManager.default.createDirectory(at: settings.output, withIntermediateDirectories: true)

            let planarStart = try resumePoint(
                settings, path: planarPath, iterations: configuration.planarIterations, option: "planar-iterations",
                load: matching.loadPlanarFlow)
            log.dropRows(run: target.rawValue, model: "planar", from: planarStart)
            if planarStart <= configuration.planarIterations {
                try matching.trainPlanarFlow(
                    iterations: planarStart...configuration.planarIterations,
                    report: { progress in
                        try? log.append(target.rawValue, progress)
                        if !settings.quiet { emit(progressLine("\(target.rawValue) planar", progress)) }
                    },
                    checkpoint: checkpointing(settings, last: configuration.planarIterations) { iteration in
                        try matching.savePlanarFlow(to: planarPath, iteration: iteration)
                    })
            }
            let flowStart = try resumePoint(
                settings, path: flowPath, iterations: configuration.iterations, option: "iterations",
                load: matching.loadContinuousFlow)
            log.dropRows(run: target.rawValue, model: "cnf", from: flowStart)
            if flowStart <= configuration.iterations {
                try matching.trainContinuousFlow(
                    iterations: flowStart...configuration.iterations,
                    report: { progress in
                        try? log.append(target.rawValue, progress)
                        if !settings.quiet { emit(progressLine("\(target.rawValue) cnf", progress)) }
                    },
                    checkpoint: checkpointing(settings, last: configuration.iterations) { iteration in
                        try matching.saveContinuousFlow(to: flowPath, iteration: iteration)
                    })
            }
            checkpoints += [planarPath, flowPath]
            let planarLoss = matching.evaluatePlanarFlow()
            let flowLoss = try matching.evaluateContinuousFlow()
            summary.append(
                "result  \(target.rawValue): planar NF (K = \(configuration.planarLayers), \(configuration.planarIterations) iterations) "
                    + "loss \(format(planarLoss, 4)) | CNF (M = \(configuration.model.width), \(configuration.iterations) iterations) "
                    + "loss \(format(flowLoss, 4))")
            rows.append((target, try CNFPictures.densityMatchingPanels(matching)))
        }
        let pictureURL = settings.output.appendingPathComponent("match.png")
        try CNFPictures.writeDensityMatching(rows: rows, to: pictureURL)
        try log.write()
        for line in summary { emit(line) }
        emit("wrote   \(pictureURL.path)")
        emit("wrote   \(csvURL.path)")
        for checkpoint in checkpoints { emit("wrote   \(checkpoint)") }
    }

    // MARK: - fit

    static func runFit(_ options: ParsedOptions) throws {
        var configuration = MaximumLikelihoodConfiguration()
        configuration.model = try modelSettings(options, defaultWidth: 64)
        configuration.iterations = try options.integer("iterations", default: 1000, in: 0...100_000_000)
        configuration.batchSize = try options.integer("batch-size", default: 512, in: 1...10_000_000)
        configuration.testSize = try options.integer("test-size", default: 5000, in: 1...10_000_000)
        configuration.evaluateEvery = try options.integer("evaluate-every", default: 100, in: 1...100_000_000)
        configuration.seed = UInt64(try options.integer("seed", default: 0))
        do {
            configuration.dataset = try ToyDataset(named: options.string("dataset", default: "circles"))
        } catch {
            throw CommandLineError(description: "invalid value for '--dataset': \(error)")
        }
        try checkMemory(
            options, model: configuration.model, points: max(configuration.batchSize, configuration.testSize), planarLayers: 0)
        let settings = try runSettings(options, defaultOutput: "runs/cnf-fit")
        try prepareOutputFolder(settings.output, option: "output")

        emit(
            "config  cnf fit dataset=\(configuration.dataset.rawValue) iterations=\(configuration.iterations) "
                + "batch=\(configuration.batchSize) test-size=\(configuration.testSize) "
                + "\(describe(configuration.model, options)) seed=\(configuration.seed)")
        let training = MaximumLikelihoodTraining(configuration: configuration)
        let path = settings.output.appendingPathComponent("fit-\(configuration.dataset.rawValue).safetensors").path
        let start = try resumePoint(
            settings, path: path, iterations: configuration.iterations, option: "iterations", load: training.load)
        let csvURL = settings.output.appendingPathComponent("losses.csv")
        var log = LossLog(url: csvURL, resuming: settings.resume)
        log.dropRows(run: configuration.dataset.rawValue, model: "cnf", from: start)
        let clock = Date()
        if start <= configuration.iterations {
            try training.train(
                iterations: start...configuration.iterations,
                report: { progress in
                    try? log.append(configuration.dataset.rawValue, progress)
                    if !settings.quiet { emit(progressLine(configuration.dataset.rawValue, progress)) }
                },
                checkpoint: checkpointing(settings, last: configuration.iterations) { iteration in
                    try training.save(to: path, iteration: iteration)
                })
        }
        let seconds = Date().timeIntervalSince(clock)
        let logLikelihood = try training.heldOutLogLikelihood()
        let pictures = try CNFPictures.writeMaximumLikelihood(training, to: settings.output)
        try log.write()
        emit(
            "result  \(configuration.dataset.rawValue): held-out log-likelihood \(format(logLikelihood, 4)) nats per point "
                + "(\(configuration.testSize) points) after \(configuration.iterations) iterations, "
                + "\(format(seconds, 1)) s of training in this run")
        for picture in pictures { emit("wrote   \(picture.path)") }
        emit("wrote   \(csvURL.path)")
        emit("wrote   \(path)")
    }
}

/// Writes a line to standard output at once, unbuffered, so that progress shows up in a log
/// file while a long run goes on.
private func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
