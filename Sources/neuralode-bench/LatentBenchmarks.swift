import COpenBLAS
import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

extension BenchmarkArea {
    /// The `latent_train_*` rows of torchdiffeq_latent.py and diffrax_latent.py.
    static let latent = BenchmarkArea(
        name: "latent",
        summary: "one latent-ODE training iteration on 1000 spirals: backpropagation, adjoint, checkpointed adjoint",
        run: runLatentBenchmarks)
}

/// The latent-ODE workload of `Benchmarks/reference/latent_workload.json` and the Float32 arrays
/// of the binary file beside it, written by `latent_workload.py`.
struct LatentWorkload {
    let spiralCount: Int
    /// The 100 shared observation times, as the reference solvers receive them (Float32 values).
    let times: [Double]
    /// Observations `[time, spiral, channel]`.
    let observations: Tensor<Float>
    /// The reparameterisation noise `[spiral, latent]`, the same at every iteration.
    let epsilon: Tensor<Float>
    /// Arrays of the networks in `torch.nn.Linear` layout, by name: `dynamics.0.weight` …
    let arrays: [String: Tensor<Float>]
    let noiseStandardDeviation: Double
    let learningRate: Double
    let relativeTolerance: Double
    let absoluteTolerance: Double

    /// The file in the source tree, found from this source file's path; the environment variable
    /// `NEURALODE_LATENT_WORKLOAD` overrides it.
    static var defaultPath: String {
        referenceWorkloadPath(fileName: "latent_workload.json", environmentVariable: "NEURALODE_LATENT_WORKLOAD")
    }

    init(contentsOf path: String) throws {
        let url = URL(fileURLWithPath: path)
        let data = try Data(contentsOf: url)
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let binary = root["binary"] as? [String: Any],
            let fileName = binary["file"] as? String,
            let byteCount = binary["bytes"] as? Int,
            let layout = binary["arrays"] as? [[String: Any]]
        else { throw WorkloadError.missing("binary") }
        let binaryPath = url.deletingLastPathComponent().appendingPathComponent(fileName).path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: binaryPath))
        guard bytes.count == byteCount else {
            throw WorkloadError.malformed(
                "\(binaryPath) has \(bytes.count) bytes but \(path) describes \(byteCount); rerun latent_workload.py")
        }
        var arrays: [String: Tensor<Float>] = [:]
        for entry in layout {
            guard let name = entry["name"] as? String, let shape = entry["shape"] as? [Int],
                let offset = entry["offset"] as? Int
            else { throw WorkloadError.missing("binary.arrays entry") }
            let count = shape.reduce(1, *)
            guard offset >= 0, offset + 4 * count <= bytes.count else {
                throw WorkloadError.malformed("\(name): \(count) values at byte \(offset) overrun \(binaryPath)")
            }
            let values = bytes.withUnsafeBytes { buffer in
                (0..<count).map { index in
                    Float(bitPattern: UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 4 * index, as: UInt32.self)))
                }
            }
            arrays[name] = Tensor(shape: shape, scalars: values)
        }
        func array(_ name: String) throws -> Tensor<Float> {
            guard let value = arrays[name] else { throw WorkloadError.missing("array \(name)") }
            return value
        }
        func number(_ key: String) throws -> Double {
            guard let value = root[key] as? NSNumber else { throw WorkloadError.missing(key) }
            return value.doubleValue
        }
        spiralCount = Int(try number("spiral_count"))
        times = try array("times").scalars.map { Double($0) }
        observations = try array("observations")
        epsilon = try array("epsilon")
        self.arrays = arrays
        noiseStandardDeviation = try number("noise_std")
        learningRate = try number("learning_rate")
        relativeTolerance = try number("rtol")
        absoluteTolerance = try number("atol")
    }

    func array(_ name: String) -> Tensor<Float> {
        guard let value = arrays[name] else { fail("latent workload: array \(name) is missing") }
        return value
    }
}

/// One training iteration of the latent ODE as the reference scripts define it, on the
/// library's `LatentODEModel` configured like torchdiffeq's `examples/latent_ode.py`.
///
/// Two adjustments make the model compute the reference's numbers. `RecognitionNetwork` also
/// reads the time since the previous observation. It receives 0 there, so that column of the
/// input weight gets no gradient and stays 0. `RNNCell` has PyTorch's two biases where the
/// reference has one, so the hidden-to-hidden bias starts at 0 and is left out of the optimizer.
private final class LatentIteration {
    let model: LatentODEModel<Float>
    let optimizer: Adam<Float>
    let workload: LatentWorkload
    let gradient: GradientMethod
    let options: ODESolverOptions
    let sequence: ObservationSequence<Float>
    let mask: Tensor<Float>

    init(workload: LatentWorkload, gradient: GradientMethod) {
        self.workload = workload
        self.gradient = gradient
        var architecture = LatentODEArchitecture()
        architecture.observationDimension = workload.observations.shape[2]
        architecture.latentDimension = workload.epsilon.shape[1]
        architecture.encoderHiddenUnits = workload.array("encoder.0.weight").shape[0]
        architecture.encoderCell = .tanh
        architecture.dynamicsHiddenUnits = workload.array("dynamics.0.weight").shape[0]
        // torchdiffeq's example has two hidden ELU layers in the dynamics (fc1, fc2, fc3).
        architecture.dynamicsHiddenLayers = 2
        architecture.dynamicsActivation = .elu
        architecture.decoderHiddenUnits = workload.array("decoder.0.weight").shape[0]
        var generator = RandomGenerator(seed: 0)
        model = LatentODEModel(architecture: architecture, generator: &generator)

        for (index, layer) in model.dynamics.layers.enumerated() {
            layer.weight.assign(workload.array("dynamics.\(index).weight"))
            layer.bias!.assign(workload.array("dynamics.\(index).bias"))
        }
        model.decoder.hidden.weight.assign(workload.array("decoder.0.weight"))
        model.decoder.hidden.bias!.assign(workload.array("decoder.0.bias"))
        model.decoder.output.weight.assign(workload.array("decoder.1.weight"))
        model.decoder.output.bias!.assign(workload.array("decoder.1.bias"))
        model.encoder.output.weight.assign(workload.array("encoder.1.weight"))
        model.encoder.output.bias!.assign(workload.array("encoder.1.bias"))

        guard let cell = model.encoder.cell as? RNNCell<Float> else { fail("latent: the encoder is not an RNNCell") }
        // The reference's input-to-hidden layer acts on [x, h]: its first columns multiply the
        // observation and the rest the hidden state.
        let combined = workload.array("encoder.0.weight")
        let channels = architecture.observationDimension
        let hiddenUnits = architecture.encoderHiddenUnits
        let inputWeight = Tensor.concatenated(
            [combined.slice(alongAxis: 1, 0..<channels), Tensor<Float>(zeros: [hiddenUnits, 1])], alongAxis: 1)
        cell.inputWeight.assign(inputWeight)
        cell.hiddenWeight.assign(combined.slice(alongAxis: 1, channels..<(channels + hiddenUnits)))
        cell.inputBias.assign(workload.array("encoder.0.bias"))
        cell.hiddenBias.assign(Tensor(zeros: [hiddenUnits]))
        let trained = model.namedParameters.filter { $0.tensor !== cell.hiddenBias }
        optimizer = Adam(parameters: trained, learningRate: workload.learningRate)

        options = ODESolverOptions(
            relativeTolerance: .scalar(workload.relativeTolerance),
            absoluteTolerance: .scalar(workload.absoluteTolerance))
        let observations = workload.observations
        let noGap = Tensor<Float>(zeros: [observations.shape[1], 1])
        let stepShape = [observations.shape[1], observations.shape[2]]
        sequence = ObservationSequence(
            values: (0..<observations.shape[0]).map {
                observations.slice(alongAxis: 0, $0..<($0 + 1)).reshaped(to: stepShape)
            },
            timeSincePrevious: Array(repeating: noGap, count: observations.shape[0]))
        mask = Tensor(ones: observations.shape)
    }

    /// Runs one iteration and returns the loss and the forward and backward evaluations.
    func run() -> (loss: Double, forward: Int, backward: Int) {
        do {
            let posterior = model.encoder(sequence)
            let initialState = posterior.mean + (posterior.logVariance * 0.5).exp() * workload.epsilon
            let solution = try solveODE(
                model.dynamics.callAsFunction, initialState, at: workload.times, options: options,
                gradient: gradient, parameters: model.dynamics.parameters)
            let elbo = LatentELBO(
                observations: workload.observations, mask: mask, predictions: model.decoder(solution.trajectory),
                observationStandardDeviation: workload.noiseStandardDeviation, posteriorMean: posterior.mean,
                posteriorLogVariance: posterior.logVariance)
            let loss = elbo.loss
            let parameterGradients = gradients(of: loss, withRespectTo: optimizer.parameters)
            try solution.backward.check()
            optimizer.step(gradients: parameterGradients)
            return (
                Double(loss.scalar), solution.statistics.functionEvaluations,
                solution.backward.statistics.functionEvaluations
            )
        } catch {
            fail("latent iteration: \(error)")
        }
    }
}

/// Loads the workload at `LatentWorkload.defaultPath`, or stops with a message that names the fix.
private func loadLatentWorkload() -> LatentWorkload {
    let path = LatentWorkload.defaultPath
    do {
        return try LatentWorkload(contentsOf: path)
    } catch {
        fail(
            "cannot read the latent workload at \(path): \(error). Set NEURALODE_LATENT_WORKLOAD to the path of "
                + "Benchmarks/reference/latent_workload.json")
    }
}

/// Returns the OpenBLAS threads of the latent area: `LATENT_THREADS`, which also sets the
/// reference scripts' threads, or `blasThreads`.
private func latentThreadCount() -> Int {
    guard let text = ProcessInfo.processInfo.environment["LATENT_THREADS"] else { return blasThreads }
    guard let count = Int(text), count >= 1 else {
        fail("LATENT_THREADS must be a whole number of at least 1, got '\(text)'")
    }
    return count
}

private func runLatentBenchmarks(_ context: BenchmarkContext) {
    let workload = loadLatentWorkload()
    // The `threads` field of the records still shows `blasThreads`, so `blas_threads` is added.
    let threads = latentThreadCount()
    openblas_set_num_threads(Int32(threads))
    defer { openblas_set_num_threads(Int32(blasThreads)) }

    let variants = trainingGradientVariants(prefix: "latent", adjointSuffix: "adjoint_seminorm")
    // As in the reference scripts: training continues across iterations from the stored
    // weights, 3 warm-up iterations (1 with --quick), then one iteration per timed sample.
    let warmup = context.quick ? 1 : 3
    let repeats = context.repeatsOverride ?? (context.quick ? 5 : 20)
    for variant in variants where context.wants(variant.name) {
        let iteration = LatentIteration(workload: workload, gradient: variant.gradient)
        let times = timeTrainingIterations(warmup: warmup, repeats: repeats, iteration.run)
        var record = times.makeRecord(name: variant.name, size: workload.spiralCount)
        record.add("method", .string(variant.method))
        record.add("warmup", .int(warmup))
        record.add("blas_threads", .int(threads))
        // As in the reference scripts: every thread, including OpenBLAS threads that spin while waiting.
        record.add("process_cpu_median_ms", .double(times.processCPUMedian * 1e3))
        times.addEvaluations(to: &record, firstLabel: "iter0")
        record.add("rtol", .double(workload.relativeTolerance))
        record.add("atol", .double(workload.absoluteTolerance))
        record.note = times.evaluationNote + ", loss0 \(formatSignificant(times.first.loss, digits: 8))"
        context.report(record)
    }
}
