import Datasets
import Experiments
import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

#if canImport(Glibc)
import Glibc
#endif

extension BenchmarkArea {
    /// The `mnist_train_*` rows of torchdiffeq_mnist.py, and the peak memory of a step against NFE.
    static let mnist = BenchmarkArea(
        name: "mnist",
        summary: "one MNIST training step of ResNet, ODE-Net, RK-Net; peak memory against NFE (needs --data)",
        run: runMNISTBenchmarks)
}

/// The environment variable with the MNIST folder; `--data PATH` sets it, so that the memory
/// measurement processes inherit it.
let mnistDataVariable = "NEURALODE_BENCH_MNIST_DATA"

/// The environment variable that turns a run of this executable into one memory measurement.
private let mnistMemoryChildVariable = "NEURALODE_BENCH_MNIST_MEMORY_CHILD"

/// Tolerances (rtol = atol) of the memory rows; the row's `size` is the negated exponent.
private let mnistMemoryTolerances = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]

/// Returns the MNIST folder from the environment, or nil when it is unset or empty. It reads the
/// variable with getenv because main.swift sets it with setenv after the process started.
private func mnistDataPath() -> String? {
    guard let pointer = getenv(mnistDataVariable) else { return nil }
    let path = String(cString: pointer)
    return path.isEmpty ? nil : path
}

/// One model of the benchmark, by the suffix of its record name.
private struct MNISTVariant {
    let name: String
    let kind: MNISTModelKind
    let adjointSeminorm: Bool
    let method: String
}

private let mnistVariants = [
    MNISTVariant(name: "resnet", kind: .resnet, adjointSeminorm: true, method: "six residual blocks"),
    MNISTVariant(
        name: "rknet", kind: .rknet, adjointSeminorm: true,
        method: "solveODE dopri5, backpropagation through the solver"),
    MNISTVariant(
        name: "odenet_seminorm", kind: .odenet, adjointSeminorm: true,
        method: "solveODE dopri5, adjoint, error norm over z and a (seminorm)"),
    MNISTVariant(
        name: "odenet_fullnorm", kind: .odenet, adjointSeminorm: false,
        method: "solveODE dopri5, adjoint, one RMS error norm over every channel"),
]

/// The workload of `Benchmarks/reference/mnist_workload.py`: the fixed batch's indices, the
/// training settings and the sums that check the generated initial parameters.
private struct MNISTWorkload {
    let batchIndices: [Int]
    let channels: Int
    let tolerance: Double
    let learningRate: Double
    let momentum: Double
    /// Model kind (`resnet`, `odenet`) → parameter name → [sum, sum of value · (i + 1)].
    let parameterSums: [String: [String: [Double]]]

    /// The file in the source tree, found from this source file's path; the environment
    /// variable `NEURALODE_MNIST_WORKLOAD` overrides it.
    static var defaultPath: String {
        referenceWorkloadPath(fileName: "mnist_workload.json", environmentVariable: "NEURALODE_MNIST_WORKLOAD")
    }

    init(contentsOf path: String) {
        func invalid(_ reason: String) -> Never {
            fail(
                "mnist: \(path) \(reason); regenerate it with "
                    + "'.venv-bench/bin/python Benchmarks/reference/mnist_workload.py'")
        }
        guard let data = FileManager.default.contents(atPath: path) else { invalid("cannot be read") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            invalid("is not a JSON object")
        }
        guard let indices = root["batch_indices"] as? [Int], !indices.isEmpty,
            let channels = root["channels"] as? Int,
            let tolerance = (root["tolerance"] as? NSNumber)?.doubleValue,
            let learningRate = (root["learning_rate"] as? NSNumber)?.doubleValue,
            let momentum = (root["momentum"] as? NSNumber)?.doubleValue,
            let sums = root["parameter_sums"] as? [String: [String: [Double]]]
        else {
            invalid(
                "lacks one of batch_indices, channels, tolerance, learning_rate, momentum, parameter_sums")
        }
        batchIndices = indices
        self.channels = channels
        self.tolerance = tolerance
        self.learningRate = learningRate
        self.momentum = momentum
        parameterSums = sums
    }
}

/// Returns the initial value of every element of the parameter `name` by the formula of
/// mnist_workload.py: a splitmix64 value of the name's FNV-1a hash and the element's index,
/// scaled to ±1/sqrt(fan_in), rounded once from Double to Float.
private func mnistWorkloadValues(name: String, count: Int, bound: Double) -> [Float] {
    var seed: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in name.utf8 {
        seed ^= UInt64(byte)
        seed = seed &* 0x0000_0100_0000_01B3
    }
    return (0..<count).map { index in
        var z = seed &+ UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z = z ^ (z >> 31)
        let unit = Double(z >> 11) * 0x1p-53
        return Float((2 * unit - 1) * bound)
    }
}

/// Sets the parameters of `model` to the workload's initial values and checks them against the
/// sums that mnist_workload.py stored, so that both sides start from the same weights.
private func assignWorkloadParameters(_ model: MNISTClassifier, workload: MNISTWorkload) {
    let kindKey = model.kind == .resnet ? "resnet" : "odenet"
    guard let expectedSums = workload.parameterSums[kindKey] else {
        fail("mnist: the workload has no parameter_sums for \(kindKey)")
    }
    let named = model.namedParameters
    let shapes = Dictionary(uniqueKeysWithValues: named.map { ($0.name, $0.tensor.shape) })
    guard Set(shapes.keys) == Set(expectedSums.keys) else {
        fail(
            "mnist: the \(kindKey) parameter names differ from the workload's: "
                + "\(shapes.keys.sorted()) against \(expectedSums.keys.sorted())")
    }
    for (name, tensor) in named {
        let prefix = name.split(separator: ".").dropLast().joined(separator: ".")
        let kind = name.split(separator: ".").last.map(String.init) ?? name
        guard let weightShape = shapes[prefix.isEmpty ? "weight" : prefix + ".weight"] else {
            fail("mnist: parameter \(name) has no weight beside it")
        }
        let values: [Float]
        if weightShape.count == 1 {
            // Group normalisation starts at weight 1 and bias 0, as in PyTorch.
            values = [Float](repeating: kind == "weight" ? 1 : 0, count: tensor.scalarCount)
        } else {
            let fanIn = weightShape.dropFirst().reduce(1, *)
            let bound = 1 / Double(fanIn).squareRoot()
            values = mnistWorkloadValues(name: name, count: tensor.scalarCount, bound: bound)
        }
        tensor.assign(Tensor(shape: tensor.shape, scalars: values))

        // Both sums are in Double, so they differ from Python's only by the summation order:
        // far less than 1e-10 of the sum of the terms' magnitudes.
        var sum = 0.0
        var weightedSum = 0.0
        var magnitude = 0.0
        var weightedMagnitude = 0.0
        for (index, value) in values.enumerated() {
            let term = Double(value)
            sum += term
            weightedSum += term * Double(index + 1)
            magnitude += Swift.abs(term)
            weightedMagnitude += Swift.abs(term) * Double(index + 1)
        }
        let expected = expectedSums[name]!
        guard expected.count == 2, Swift.abs(sum - expected[0]) <= 1e-10 * magnitude,
            Swift.abs(weightedSum - expected[1]) <= 1e-10 * weightedMagnitude
        else {
            fail(
                "mnist: the generated values of \(name) have sums \(sum), \(weightedSum); "
                    + "the workload expects \(expected). Regenerate mnist_workload.json with "
                    + "mnist_workload.py, and check that its formula matches mnistWorkloadValues")
        }
    }
}

/// Reads the fixed batch: images `[128, 1, 28, 28]` scaled to [0, 1], and their labels.
private func loadMNISTBatch(dataPath: String, workload: MNISTWorkload) -> (images: Tensor<Float>, labels: [Int]) {
    do {
        let train = try MNIST.load(from: dataPath, split: .train)
        return (
            train.images(at: workload.batchIndices, normalization: .unitInterval),
            train.labels(at: workload.batchIndices)
        )
    } catch {
        fail("mnist: cannot read the MNIST training files in \(dataPath): \(error)")
    }
}

/// One training step, as torchdiffeq_mnist.py defines it: forward, mean cross-entropy,
/// gradients for every parameter, one SGD update.
private final class MNISTTrainingStep {
    let model: MNISTClassifier
    let optimizer: SGD<Float>
    let images: Tensor<Float>
    let labels: [Int]

    init(
        kind: MNISTModelKind, adjointSeminorm: Bool, tolerance: Double, workload: MNISTWorkload,
        images: Tensor<Float>, labels: [Int]
    ) {
        var solver = MNISTSolverSettings()
        solver.tolerance = tolerance
        solver.adjointSeminorm = adjointSeminorm
        var generator = RandomGenerator(seed: 0)
        model = MNISTClassifier(kind: kind, channels: workload.channels, solver: solver, generator: &generator)
        assignWorkloadParameters(model, workload: workload)
        optimizer = SGD(
            parameters: model.namedParameters, learningRate: workload.learningRate, momentum: workload.momentum)
        self.images = images
        self.labels = labels
    }

    /// Runs one step and returns the loss and the forward and backward evaluations. Without
    /// `update`, the gradients are computed and dropped.
    func run(update: Bool = true) -> (loss: Double, forward: Int, backward: Int) {
        do {
            let forward = try model(images)
            let loss = crossEntropy(logits: forward.logits, labels: labels)
            let parameterGradients = gradients(of: loss, withRespectTo: optimizer.parameters)
            try forward.solution?.backward.check()
            if update { optimizer.step(gradients: parameterGradients) }
            return (
                Double(loss.scalar), forward.solution?.statistics.functionEvaluations ?? 0,
                forward.solution?.backward.statistics.functionEvaluations ?? 0
            )
        } catch {
            fail("mnist training step (\(model.kind.displayName)): \(error)")
        }
    }
}

private func runMNISTBenchmarks(_ context: BenchmarkContext) {
    if let configuration = ProcessInfo.processInfo.environment[mnistMemoryChildVariable] {
        runMNISTMemoryChild(configuration)
    }
    guard let dataPath = mnistDataPath() else {
        writeStandardError(
            "mnist: skipped, because no MNIST folder was given; pass --data PATH (the folder with "
                + "train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz) or set \(mnistDataVariable)\n")
        return
    }
    let workload = MNISTWorkload(contentsOf: MNISTWorkload.defaultPath)
    let batch = loadMNISTBatch(dataPath: dataPath, workload: workload)
    runMNISTStepBenchmarks(context, workload: workload, images: batch.images, labels: batch.labels)
    runMNISTMemoryBenchmarks(context)
}

/// Times one training step per sample; training continues across the warm-up and timed steps
/// from the workload's initial parameters, as in torchdiffeq_mnist.py.
private func runMNISTStepBenchmarks(
    _ context: BenchmarkContext, workload: MNISTWorkload, images: Tensor<Float>, labels: [Int]
) {
    let warmup = context.quick ? 1 : 2
    let repeats = context.repeatsOverride ?? (context.quick ? 3 : 10)
    for variant in mnistVariants where context.wants("mnist_train_\(variant.name)") {
        let step = MNISTTrainingStep(
            kind: variant.kind, adjointSeminorm: variant.adjointSeminorm, tolerance: workload.tolerance,
            workload: workload, images: images, labels: labels)
        let times = timeTrainingIterations(
            warmup: warmup, repeats: repeats,
            progress: { index, result, elapsed in
                writeStandardError(
                    "mnist_train_\(variant.name) step \(index): \(formatDuration(elapsed)), loss \(result.loss), "
                        + "nfe \(result.forward)/\(result.backward)\n")
            },
            { step.run() })
        let first = times.first
        var record = times.makeRecord(name: "mnist_train_\(variant.name)", size: labels.count)
        record.add("process_cpu_median_ms", .double(times.processCPUMedian * 1e3))
        record.add("method", .string(variant.method))
        record.add("warmup", .int(warmup))
        record.add("parameters", .int(step.model.parameterCount))
        times.addEvaluations(to: &record, firstLabel: "step0")
        record.add("rtol", .double(workload.tolerance))
        record.add("atol", .double(workload.tolerance))
        record.add("omp_wait_policy", .string(ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] ?? ""))
        record.note =
            "nfe \(formatSignificant(times.forwardMedian, digits: 3))/"
            + "\(formatSignificant(times.backwardMedian, digits: 3)); step 0 loss "
            + "\(formatSignificant(first.loss, digits: 6)), nfe \(first.forward)/\(first.backward)"
        context.report(record)
    }
}

// MARK: - Memory against NFE

/// Measures, in a fresh process per row, the peak resident growth of one training step of the
/// ODE-Net (adjoint) and of the RK-Net (backpropagation through the solver) at each tolerance.
private func runMNISTMemoryBenchmarks(_ context: BenchmarkContext) {
    let models: [(name: String, kind: MNISTModelKind, method: String)] = [
        ("odenet", .odenet, "solveODE dopri5, adjoint (seminorm)"),
        ("rknet", .rknet, "solveODE dopri5, backpropagation through the solver"),
    ]
    for model in models where context.wants("mnist_memory_\(model.name)") {
        for tolerance in mnistMemoryTolerances {
            let result = spawnMNISTMemoryChild("\(model.name),\(tolerance)")
            let samples = TimingSamples(perCall: [result.seconds], loopCount: 1)
            let exponent = Int((-log10(tolerance)).rounded())
            var record = BenchmarkRecord(name: "mnist_memory_\(model.name)", size: exponent, samples: samples)
            record.add("method", .string(model.method))
            record.add("batch", .int(128))
            record.add("rtol", .double(tolerance))
            record.add("atol", .double(tolerance))
            record.add("nfe_forward", .int(result.forward))
            record.add("nfe_backward", .int(result.backward))
            record.add("peak_rss_growth_mib", .double(result.growthMiB))
            record.add("baseline_rss_mib", .double(result.baselineMiB))
            // The baseline includes the buffers that the tensor engine's cache kept from the
            // warm-up step. This field is the peak over the resident size before that step.
            record.add("peak_rss_over_model_mib", .double(result.growthMiB + result.baselineMiB - result.modelMiB))
            record.add("model_rss_mib", .double(result.modelMiB))
            record.add(
                "memory_note",
                .string(
                    "fresh process per row; VmHWM after one training step from the initial weights "
                        + "minus VmRSS before it, after one warm-up step at rtol = atol = 0.1 and a reset "
                        + "of the peak through /proc/self/clear_refs"))
            record.note =
                "peak +\(formatFixed(result.growthMiB, decimals: 1)) MiB, nfe \(result.forward)/\(result.backward)"
            context.report(record)
        }
    }
}

private struct MNISTMemoryResult {
    var forward: Int
    var backward: Int
    var seconds: Double
    var growthMiB: Double
    var baselineMiB: Double
    /// Resident size after building the model and reading the batch, before the warm-up step.
    var modelMiB: Double
}

/// Measures `configuration` in a fresh process running `runMNISTMemoryChild`.
private func spawnMNISTMemoryChild(_ configuration: String) -> MNISTMemoryResult {
    let values = runMeasurementProcess(
        area: "mnist", variable: mnistMemoryChildVariable, configuration: configuration,
        resultPrefix: "mnist-memory-result", valueCount: 6, label: "mnist memory")
    return MNISTMemoryResult(
        forward: Int(values[0]), backward: Int(values[1]), seconds: values[2], growthMiB: values[3],
        baselineMiB: values[4], modelMiB: values[5])
}

/// Measures one configuration `model,tolerance`, prints
/// `mnist-memory-result forward backward seconds growthMiB baselineMiB modelMiB` and exits.
private func runMNISTMemoryChild(_ configuration: String) -> Never {
    let parts = configuration.split(separator: ",")
    guard parts.count == 2, let kind = MNISTModelKind(rawValue: String(parts[0])), kind.hasODEBlock,
        let tolerance = Double(parts[1])
    else { fail("mnist memory: invalid configuration '\(configuration)'; expected odenet|rknet,TOLERANCE") }
    guard let dataPath = mnistDataPath() else { fail("mnist memory: \(mnistDataVariable) is not set") }
    let workload = MNISTWorkload(contentsOf: MNISTWorkload.defaultPath)
    // The batch is copied out of the data set, which is freed before the baseline is read.
    let batch = loadMNISTBatch(dataPath: dataPath, workload: workload)
    let step = MNISTTrainingStep(
        kind: kind, adjointSeminorm: true, tolerance: 0.1, workload: workload, images: batch.images,
        labels: batch.labels)

    let beforeWarmup = processStatusKiB("VmRSS", label: "mnist memory")
    // One step at the loosest tolerance first, so that lazily created state (oneDNN primitives,
    // BLAS buffers, the tensor engine's cache) is in the baseline.
    _ = step.run(update: false)
    step.model.odeBlock!.solver.tolerance = tolerance
    guard ProcessMemory.resetPeakResidentBytes() else { fail("mnist memory: cannot write /proc/self/clear_refs") }
    let baseline = processStatusKiB("VmRSS", label: "mnist memory")
    let start = monotonicSeconds()
    let counts = step.run()
    let seconds = monotonicSeconds() - start
    let peak = processStatusKiB("VmHWM", label: "mnist memory")
    print(
        "mnist-memory-result \(counts.forward) \(counts.backward) \(seconds) "
            + "\(Double(peak - baseline) / 1024) \(Double(baseline) / 1024) \(Double(beforeWarmup) / 1024)")
    fflush(nil)
    exit(0)
}
