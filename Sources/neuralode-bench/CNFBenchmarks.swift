import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

#if canImport(Glibc)
import Glibc
#endif

extension BenchmarkArea {
    /// The `cnf_train_*` rows of torchdiffeq_cnf.py and diffrax_cnf.py.
    static let cnf = BenchmarkArea(
        name: "cnf",
        summary: "one maximum-likelihood iteration of a planar CNF (width 64) on two circles, adjoint",
        run: runCNFBenchmarks)
}

/// The inputs of `Benchmarks/reference/cnf_workload.json`, written by cnf_workload.py: the
/// initial hypernetwork layers of the planar CNF and a fixed sequence of two-circles batches.
struct CNFWorkload {
    /// The hypernetwork's three layers in `torch.nn.Linear` layout: weight `[out, in]`, bias `[out]`.
    let layers: [(weight: Tensor<Float>, bias: Tensor<Float>)]
    /// The training batches, each `[512, 2]`. Iteration `i` uses batch `i mod count`.
    let batches: [Tensor<Float>]
    let dimension: Int
    let width: Int
    let hiddenSize: Int
    /// The time of the base distribution. The data are at `endTime`.
    let startTime: Double
    let endTime: Double
    /// The variance `σ²` of the base distribution `N(0, σ² I)`.
    let baseVariance: Double
    let relativeTolerance: Double
    let absoluteTolerance: Double
    let learningRate: Double

    /// The file in the source tree, found from this source file's path. The environment variable
    /// `NEURALODE_CNF_WORKLOAD` overrides it.
    static var defaultPath: String {
        referenceWorkloadPath(fileName: "cnf_workload.json", environmentVariable: "NEURALODE_CNF_WORKLOAD")
    }

    init(contentsOf path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw WorkloadError.malformed("\(path) does not contain a JSON object")
        }
        func number(_ key: String) throws -> Double {
            guard let value = root[key] as? NSNumber else { throw WorkloadError.missing(key) }
            return value.doubleValue
        }
        guard let layerList = root["layers"] as? [[String: Any]] else { throw WorkloadError.missing("layers") }
        layers = try layerList.enumerated().map { index, layer in
            (
                try Self.tensor(layer["weight"], key: "layers[\(index)].weight"),
                try Self.tensor(layer["bias"], key: "layers[\(index)].bias")
            )
        }
        guard let batchList = root["batches"] as? [Any], !batchList.isEmpty else {
            throw WorkloadError.missing("batches")
        }
        batches = try batchList.enumerated().map { index, batch in
            try Self.tensor(batch, key: "batches[\(index)]")
        }
        dimension = Int(try number("dimension"))
        width = Int(try number("width"))
        hiddenSize = Int(try number("hidden"))
        startTime = try number("t0")
        endTime = try number("t1")
        baseVariance = try number("base_variance")
        relativeTolerance = try number("rtol")
        absoluteTolerance = try number("atol")
        learningRate = try number("learning_rate")
    }

    /// Reads an array stored as `{"shape": [...], "data": [...]}` in row-major order.
    private static func tensor(_ value: Any?, key: String) throws -> Tensor<Float> {
        guard let object = value as? [String: Any], let shape = object["shape"] as? [Int],
            let values = object["data"] as? [NSNumber]
        else { throw WorkloadError.missing(key) }
        guard shape.reduce(1, *) == values.count else {
            throw WorkloadError.malformed("\(key): shape \(shape) but \(values.count) values")
        }
        return Tensor(shape: shape, scalars: values.map { $0.floatValue })
    }
}

/// One training iteration as the reference scripts define it: solve `(z, Δ)` of the batch from
/// `endTime` back to `startTime`, take `-mean(log N(z(t₀); 0, σ² I) - Δ(t₀))`, its gradient by
/// `gradient`, and one Adam step.
private final class CNFIteration {
    let flow: ContinuousNormalizingFlow<PlanarCNFField<Float>>
    let optimizer: Adam<Float>
    let batches: [Tensor<Float>]
    private var index = 0

    init(workload: CNFWorkload, traceEstimator: TraceEstimator, gradient: GradientMethod) {
        var generator = RandomGenerator(seed: 0)
        let field = PlanarCNFField<Float>(
            dimension: workload.dimension, width: workload.width, hiddenSize: workload.hiddenSize,
            generator: &generator)
        for (layer, initial) in zip([field.hidden1, field.hidden2, field.output], workload.layers) {
            layer.weight.assign(initial.weight)
            layer.bias!.assign(initial.bias)
        }
        flow = ContinuousNormalizingFlow(
            field: field, startTime: workload.startTime, endTime: workload.endTime, traceEstimator: traceEstimator,
            options: ODESolverOptions(
                relativeTolerance: .scalar(workload.relativeTolerance),
                absoluteTolerance: .scalar(workload.absoluteTolerance)),
            gradient: gradient, baseStandardDeviation: workload.baseVariance.squareRoot())
        // torch.optim.Adam's defaults, as in the reference scripts: betas (0.9, 0.999), eps 1e-8.
        optimizer = Adam(parameters: field.namedParameters, learningRate: workload.learningRate)
        batches = workload.batches
    }

    /// Runs one iteration on the next batch and returns the loss and the forward and backward
    /// evaluations.
    func run() -> (loss: Double, forward: Int, backward: Int) {
        let batch = batches[index % batches.count]
        index += 1
        do {
            let (logDensity, transport) = try flow.logDensity(of: batch)
            let loss = -logDensity.mean()
            let parameterGradients = gradients(of: loss, withRespectTo: optimizer.parameters)
            try transport.solution.backward.check()
            optimizer.step(gradients: parameterGradients)
            return (
                Double(loss.scalar), transport.solution.statistics.functionEvaluations,
                transport.solution.backward.statistics.functionEvaluations
            )
        } catch {
            fail("cnf iteration: \(error)")
        }
    }
}

private func runCNFBenchmarks(_ context: BenchmarkContext) {
    let path = CNFWorkload.defaultPath
    let workload: CNFWorkload
    do {
        workload = try CNFWorkload(contentsOf: path)
    } catch {
        fail(
            "cannot read the CNF workload at \(path): \(error). Set NEURALODE_CNF_WORKLOAD to the path of "
                + "Benchmarks/reference/cnf_workload.json")
    }
    // `cnf_train_adjoint` is the reference scripts' iteration, and `cnf_train_direct` pairs with
    // diffrax's RecursiveCheckpointAdjoint. The closed-form trace has no reference row, because
    // torchdiffeq's example and diffrax_cnf.py take the trace by automatic differentiation.
    let variants: [(name: String, estimator: TraceEstimator, gradient: GradientMethod, method: String)] = [
        (
            "cnf_train_adjoint", .exact, .adjoint,
            "solveODE dopri5, adjoint, exact trace (2 vector-Jacobian products), Adam"
        ),
        (
            "cnf_train_adjoint_closed_form", .closedForm, .adjoint,
            "solveODE dopri5, adjoint, closed-form planar trace, Adam"
        ),
        (
            "cnf_train_direct", .exact, .backpropagation,
            "solveODE dopri5, backpropagation through the solver, exact trace, Adam"
        ),
    ]
    // As in the reference scripts: training continues across iterations from the initial
    // weights, 5 warm-up iterations (2 with --quick), then one iteration per timed sample.
    let warmup = context.quick ? 2 : 5
    let repeats = context.repeatsOverride ?? (context.quick ? 5 : 20)
    for variant in variants where context.wants(variant.name) {
        let iteration = CNFIteration(
            workload: workload, traceEstimator: variant.estimator, gradient: variant.gradient)
        let times = timeTrainingIterations(warmup: warmup, repeats: repeats, iteration.run)

        var record = times.makeRecord(name: variant.name, size: workload.batches[0].shape[0])
        record.add("method", .string(variant.method))
        record.add("warmup", .int(warmup))
        times.addEvaluations(to: &record, firstLabel: "iter0")
        record.add("rtol", .double(workload.relativeTolerance))
        record.add("atol", .double(workload.absoluteTolerance))

        record.note = times.evaluationNote + ", loss \(formatFixed(times.first.loss, decimals: 5))"
        context.report(record)
    }
}
