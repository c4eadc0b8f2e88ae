import Experiments
import Foundation

/// `neuralode mnist` trains the ResNet, ODE-Net or RK-Net of Table 1 of Chen et al., "Neural
/// Ordinary Differential Equations" (2018), on MNIST. `neuralode mnist figure3` runs the
/// Figure 3 experiments of that paper on a trained ODE-Net.
enum MNISTCommand: Command {
    static let name = "mnist"
    static let synopsis = "[figure3] [options]"
    static let summary = """
        Train the MNIST classifiers of Table 1 of Chen et al., "Neural Ordinary Differential \
        Equations" (2018): --model resnet, odenet (adjoint) or rknet (backpropagation through \
        the solver). Writes a checkpoint after every epoch (continue with --resume), per-batch \
        and per-epoch logs, and the results beside the published table. \
        'neuralode mnist figure3 --checkpoint DIR --data PATH' measures the cost of the ODE \
        block of a trained model and draws Figure 3.
        """
    static let options: [OptionSpecification] = [
        .value("model", "NAME", help: "odenet, resnet or rknet", default: "odenet"),
        .value("data", "PATH", help: "folder with the four MNIST files (gzip or raw IDX); required"),
        .value("epochs", "N", help: "epochs to train in total, counting resumed ones", default: "160"),
        .value("batch-size", "N", help: "training images per step", default: "128"),
        .value("test-batch-size", "N", help: "images per evaluation batch", default: "1000"),
        .value(
            "learning-rate", "RATE", help: "SGD learning rate for batch 128; scaled by batch-size/128",
            default: "0.1"),
        .value(
            "decay-epochs", "LIST", help: "epochs at which the learning rate is multiplied by --decay-factor; empty for none",
            default: "60,100,140"),
        .value("decay-factor", "F", help: "learning-rate factor at each decay epoch, in (0, 1]", default: "0.1"),
        .value("momentum", "M", help: "SGD momentum", default: "0.9"),
        .value("tol", "TOL", help: "dopri5 relative and absolute tolerance", default: "1e-3"),
        .value("solver", "NAME", help: "dopri5 (adaptive) or rk4 (fixed steps) for the ODE block", default: "dopri5"),
        .value("rk4-steps", "N", help: "equal steps on [0, 1] with --solver rk4", default: "4"),
        .flag("no-seminorm", help: "control the error of every channel in the adjoint's backward solve"),
        .flag("no-augmentation", help: "train without random crops"),
        .value("channels", "N", help: "channels of the hidden layers", default: "64"),
        .value("seed", "N", help: "seed of the initial weights, data order and crops", default: "0"),
        .value("limit-train", "N", help: "train on the first N training images only (smoke runs)"),
        .value("limit-test", "N", help: "evaluate on the first N test images only"),
        .value("checkpoint-dir", "DIR", help: "folder of the checkpoint, logs and results", default: "runs/mnist-MODEL"),
        .flag("resume", help: "continue the run whose checkpoint is in --checkpoint-dir"),
        memoryLimitOption,
        .value("log-every", "N", help: "batches between progress lines when stderr is not a terminal", default: "50"),
        .flag("quiet", help: "print no progress, only the epoch lines and results"),
        .value("checkpoint", "DIR", help: "figure3: the folder of a trained ODE-Net's checkpoint"),
        .value("output", "DIR", help: "figure3: folder for the CSV files and pictures", default: "DIR/figure3"),
        .value("tolerances", "LIST", help: "figure3: tolerances of the sweep", default: "1e-1,3e-2,...,1e-5"),
        .value("sweep-batch-size", "N", help: "figure3: test images in the sweep's batch", default: "500"),
        .value("repeats", "N", help: "figure3: timed forward passes per tolerance (minimum kept)", default: "2"),
    ]

    static let figureOnlyOptions = ["checkpoint", "output", "tolerances", "sweep-batch-size", "repeats"]
    static let trainingOnlyOptions = [
        "model", "epochs", "batch-size", "test-batch-size", "learning-rate", "decay-epochs", "decay-factor",
        "momentum", "tol", "solver", "rk4-steps", "channels", "seed", "limit-train", "limit-test",
        "checkpoint-dir", "log-every", "memory-limit",
    ]
    static let trainingOnlyFlags = ["no-seminorm", "no-augmentation", "resume", "quiet"]

    static func run(_ options: ParsedOptions) throws {
        switch options.positional {
        case []:
            try train(options)
        case ["figure3"]:
            try figure3(options)
        default:
            throw CommandLineError(
                description: "unexpected argument '\(options.positional.joined(separator: " "))'; "
                    + "use 'neuralode mnist [options]' to train or 'neuralode mnist figure3 [options]'")
        }
    }

    // MARK: - Training

    static func configuration(from options: ParsedOptions) throws -> MNISTConfiguration {
        for name in figureOnlyOptions where options.string(name) != nil {
            throw CommandLineError(description: "option '--\(name)' belongs to 'neuralode mnist figure3', not to training")
        }

        var configuration = MNISTConfiguration()
        let modelName = try options.choice("model", default: "odenet", among: MNISTModelKind.allCases.map(\.rawValue))
        configuration.model = MNISTModelKind(rawValue: modelName)!
        configuration.dataPath = try requiredData(options)
        configuration.epochs = try options.integer("epochs", default: 160, in: 1...100_000)
        configuration.batchSize = try options.integer("batch-size", default: 128, in: 1...60_000)
        configuration.testBatchSize = try options.integer("test-batch-size", default: 1000, in: 1...10_000)
        configuration.baseLearningRate = try options.double("learning-rate", default: 0.1)
        configuration.decayEpochs = try options.integers("decay-epochs", default: [60, 100, 140])
        guard configuration.decayEpochs == configuration.decayEpochs.sorted(),
            Set(configuration.decayEpochs).count == configuration.decayEpochs.count,
            !configuration.decayEpochs.contains(0)
        else {
            throw CommandLineError(
                description: "invalid value '\(options.string("decay-epochs") ?? "")' for '--decay-epochs': "
                    + "expected positive epochs in increasing order, such as 60,100,140")
        }

        configuration.decayFactor = try options.double("decay-factor", default: 0.1)
        configuration.momentum = try options.double("momentum", default: 0.9, above: 0, inclusive: true)
        guard configuration.momentum < 1 else {
            throw CommandLineError(
                description: "invalid value '\(configuration.momentum)' for '--momentum': expected a number in [0, 1)")
        }

        configuration.solver.tolerance = try options.floatRelativeTolerance("tol", default: 1e-3)
        guard configuration.solver.tolerance < 1 else {
            throw CommandLineError(
                description: "invalid value '\(configuration.solver.tolerance)' for '--tol': expected a number in (0, 1), such as 1e-3")
        }
        let solverName = try options.choice(
            "solver", default: "dopri5", among: MNISTSolverSettings.Method.allCases.map(\.rawValue))
        configuration.solver.method = MNISTSolverSettings.Method(rawValue: solverName)!
        configuration.solver.rk4Steps = try options.integer("rk4-steps", default: 4, in: 1...10_000)
        configuration.solver.adjointSeminorm = !options.isSet("no-seminorm")

        configuration.augmentation = !options.isSet("no-augmentation")
        configuration.channels = try options.integer("channels", default: 64, in: 1...4096)
        guard configuration.channels <= 32 || configuration.channels % 32 == 0 else {
            throw CommandLineError(
                description: "invalid value '\(configuration.channels)' for '--channels': above 32 it must be a multiple of 32, "
                    + "because the group normalisations use 32 groups")
        }

        configuration.seed = UInt64(try options.integer("seed", default: 0))
        if options.string("limit-train") != nil {
            configuration.trainLimit = try options.integer("limit-train", default: 60_000, in: 1...Int.max)
        }
        if options.string("limit-test") != nil {
            configuration.testLimit = try options.integer("limit-test", default: 10_000, in: 1...Int.max)
        }
        configuration.checkpointDirectory = options.string(
            "checkpoint-dir", default: "runs/mnist-\(configuration.model.rawValue)")
        configuration.resume = options.isSet("resume")
        try checkMemory(options, configuration)
        do {
            try configuration.validate()
        } catch {
            throw CommandLineError(description: error.description)
        }
        return configuration
    }

    /// Rejects settings whose estimated memory exceeds `--memory-limit`.
    ///
    /// The estimate counts 4-byte Float scalars. A training batch stores 8000 per image and
    /// channel (activations and gradients of feature maps of 26², 13² and 6² pixels), and an
    /// evaluation batch 1500. The weights, about 80 · channels², count four times (values,
    /// gradients, momentum and a spare). It is an order of magnitude, not a measurement.
    static func checkMemory(_ options: ParsedOptions, _ configuration: MNISTConfiguration) throws {
        let channels = Double(configuration.channels)
        let scalars =
            Double(configuration.batchSize) * channels * 8000 + Double(configuration.testBatchSize) * channels * 1500
            + 4 * 80 * channels * channels
        try options.checkMemoryEstimate(
            bytes: scalars * 4,
            settings: "--batch-size \(configuration.batchSize), --test-batch-size \(configuration.testBatchSize), "
                + "--channels \(configuration.channels)")
    }

    static func requiredData(_ options: ParsedOptions) throws -> String {
        guard let data = options.string("data"), !data.isEmpty else {
            throw CommandLineError(
                description: "missing '--data PATH': the folder with train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                    + "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or the same files uncompressed)")
        }
        return data
    }

    static func train(_ options: ParsedOptions) throws {
        let configuration = try configuration(from: options)
        let logEvery = try options.integer("log-every", default: 50, in: 1...1_000_000)
        let quiet = options.isSet("quiet")

        printFlushed("config  \(configuration.summary)")
        try prepareOutputFolder(URL(fileURLWithPath: configuration.checkpointDirectory), option: "checkpoint-dir")
        let experiment = try MNISTExperiment(configuration: configuration)
        printFlushed(
            "data    \(experiment.trainingSet.count) training images (\(experiment.batchesPerEpoch) batches per epoch), "
                + "\(experiment.testSet.count) test images; \(experiment.model.parameterCount) parameters")
        if experiment.completedEpochs > 0 {
            printFlushed("resume  from epoch \(experiment.completedEpochs) in \(experiment.checkpointPath)")
        }

        var progress = TrainingProgress(
            epochs: configuration.epochs, logEvery: logEvery, quiet: quiet,
            isTerminal: isatty(STDERR_FILENO) == 1, hasODEBlock: configuration.model.hasODEBlock)
        try experiment.train { event in progress.handle(event) }

        let result = try experiment.result()
        let files = try MNISTResultsTable.write([result], to: configuration.checkpointDirectory)
        printFlushed("")
        printFlushed(MNISTResultsTable.markdown([result]), terminator: "")
        for file in files + [experiment.checkpointPath] { printFlushed("wrote   \(file)") }
    }

    // MARK: - Figure 3

    static func figure3(_ options: ParsedOptions) throws {
        for name in trainingOnlyOptions where options.string(name) != nil {
            throw CommandLineError(description: "option '--\(name)' belongs to training, not to 'neuralode mnist figure3'")
        }
        for name in trainingOnlyFlags where options.isSet(name) {
            throw CommandLineError(description: "option '--\(name)' belongs to training, not to 'neuralode mnist figure3'")
        }
        guard let checkpoint = options.string("checkpoint"), !checkpoint.isEmpty else {
            throw CommandLineError(
                description: "missing '--checkpoint DIR': the --checkpoint-dir of an ODE-Net trained with 'neuralode mnist'")
        }
        let dataPath = try requiredData(options)
        let output = options.string("output", default: URL(fileURLWithPath: checkpoint).appendingPathComponent("figure3").path)
        let tolerances = try tolerances(options)
        let batchSize = try options.integer("sweep-batch-size", default: 500, in: 1...10_000)
        let repeats = try options.integer("repeats", default: 2, in: 1...100)

        let (model, epochs) = try MNISTExperiment.loadModel(fromCheckpointDirectory: checkpoint)
        guard model.kind.hasODEBlock else {
            throw CommandLineError(
                description: "'\(checkpoint)' contains a \(model.kind.displayName), which has no ODE block; "
                    + "point --checkpoint at an ODE-Net (or RK-Net) run")
        }
        let batchLog = try MNISTFigure3.readBatchLog(checkpointDirectory: checkpoint)
        try prepareOutputFolder(URL(fileURLWithPath: output), option: "output")
        let batch = try MNISTFigure3.testBatch(dataPath: dataPath, count: batchSize)
        // The test set may hold fewer images than --sweep-batch-size; echo the count used.
        printFlushed(
            "config  figure3 checkpoint=\(checkpoint) model=\(model.kind.rawValue) trained-epochs=\(epochs) data=\(dataPath) "
                + "output=\(output) tolerances=\(tolerances.map { "\($0)" }.joined(separator: ",")) "
                + "batch=\(batch.labels.count) repeats=\(repeats)")
        let sweep = try MNISTFigure3.toleranceSweep(
            model: model, images: batch.images, labels: batch.labels, tolerances: tolerances, repeats: repeats)
        for point in sweep {
            printFlushed(
                "tol \(point.tolerance) | NFE \(point.forwardEvaluations) | \(format(point.seconds, 3)) s "
                    + "| error of h(1) \(String(format: "%.2e", point.numericalError)) "
                    + "| misclassified \(format(point.classificationError * 100, 2))%")
        }
        let files = try MNISTFigure3.write(sweep: sweep, batchLog: batchLog, batchSize: batch.labels.count, to: output)
        for file in files { printFlushed("wrote   \(file)") }
    }

    static func tolerances(_ options: ParsedOptions) throws -> [Double] {
        guard let text = options.string("tolerances") else { return MNISTFigure3.defaultTolerances }
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 1e-8 && $0! < 1 }) else {
            throw CommandLineError(
                description: "invalid value '\(text)' for '--tolerances': expected comma-separated numbers in [1e-8, 1), "
                    + "such as 1e-1,1e-2,1e-3; the model computes in Float (machine epsilon 1.19e-7), "
                    + "which cannot meet a smaller tolerance")
        }
        return values.map { $0! }
    }
}

/// Prints training progress: a bar redrawn on stderr when it is a terminal, plain lines every
/// `logEvery` batches otherwise, and one line per epoch on stdout.
struct TrainingProgress {
    let epochs: Int
    let logEvery: Int
    let quiet: Bool
    let isTerminal: Bool
    let hasODEBlock: Bool
    private var epoch = 0
    private var batchCount = 0
    private var lossSum = 0.0
    private var accuracySum = 0.0
    private var forwardSum = 0
    private var backwardSum = 0
    private var secondsSum = 0.0
    private var seen = 0

    init(epochs: Int, logEvery: Int, quiet: Bool, isTerminal: Bool, hasODEBlock: Bool) {
        self.epochs = epochs
        self.logEvery = logEvery
        self.quiet = quiet
        self.isTerminal = isTerminal
        self.hasODEBlock = hasODEBlock
    }

    mutating func handle(_ event: MNISTTrainingEvent) {
        switch event {
        case let .epochStarted(epoch, batchCount, _):
            self.epoch = epoch
            self.batchCount = batchCount
            (lossSum, accuracySum, forwardSum, backwardSum, secondsSum, seen) = (0, 0, 0, 0, 0, 0)
        case .batch(let record):
            seen += 1
            lossSum += record.loss
            accuracySum += record.accuracy
            forwardSum += record.forwardEvaluations
            backwardSum += record.backwardEvaluations
            secondsSum += record.seconds
            guard !quiet else { return }
            if isTerminal {
                writeToStandardError(bar())
            } else if seen % logEvery == 0 || seen == batchCount {
                writeToStandardError(line() + "\n")
            }
        case .evaluating:
            if !quiet && isTerminal { writeToStandardError(bar() + " | testing") }
        case .epochFinished(let record):
            if !quiet && isTerminal { writeToStandardError("\r\u{1B}[K") }
            var text =
                "epoch \(record.epoch)/\(epochs) | train loss \(format(record.trainLoss, 4)) "
                + "acc \(format(record.trainAccuracy * 100, 2))% | test error \(format(record.testError * 100, 2))% "
                + "loss \(format(record.testLoss, 4))"
            if hasODEBlock {
                text += " | NFE f \(format(record.meanForwardEvaluations, 1)) b \(format(record.meanBackwardEvaluations, 1))"
            }
            text +=
                " | \(format(record.trainSeconds, 1)) s (\(format(record.trainSeconds / Double(max(1, seen)), 3)) s/batch)"
                + " | test \(format(record.testSeconds, 1)) s | lr \(record.learningRate)"
            printFlushed(text)
        }
    }

    private var averages: String {
        let count = Double(max(1, seen))
        var text = "loss \(format(lossSum / count, 4)) | acc \(format(accuracySum / count * 100, 2))%"
        if hasODEBlock {
            text += " | NFE f \(format(Double(forwardSum) / count, 1)) b \(format(Double(backwardSum) / count, 1))"
        }
        text += " | \(format(secondsSum / count, 3)) s/batch"
        return text
    }

    private func bar() -> String {
        let width = 24
        let filled = batchCount == 0 ? 0 : width * seen / batchCount
        let remaining = secondsSum / Double(max(1, seen)) * Double(batchCount - seen)
        return "\r\u{1B}[Kepoch \(epoch)/\(epochs) [\(String(repeating: "#", count: filled))"
            + "\(String(repeating: "-", count: width - filled))] \(seen)/\(batchCount) | \(averages) "
            + "| eta \(Int(remaining.rounded())) s"
    }

    private func line() -> String {
        "epoch \(epoch)/\(epochs) batch \(seen)/\(batchCount) | \(averages)"
    }
}

/// Writes `text` to standard error as it is, without a newline.
private func writeToStandardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// Prints like `print` and flushes the output streams, so that lines reach a log file as they
/// happen when the output is not a terminal.
private func printFlushed(_ text: String, terminator: String = "\n") {
    print(text, terminator: terminator)
    fflush(nil)
}
