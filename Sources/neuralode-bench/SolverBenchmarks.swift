import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

extension BenchmarkArea {
    /// The `mlp_ode_solve` rows of torchdiffeq_bench.py and diffrax_bench.py.
    static let solver = BenchmarkArea(
        name: "solver",
        summary: "dopri5 solve of a 2-64-64-2 tanh MLP from t=0 to 10, batch 1, 64, 4096, no gradient",
        run: runSolverBenchmarks)
}

/// The 2-64-64-2 tanh MLP of the reference workloads, built as a user would write it: a
/// `Sequential` of `Linear` and `Tanh` layers. The memory benchmarks use it as their dynamics too.
final class ReferenceMLP {
    let layers: [Linear<Float>]
    let network: Sequential<Float>

    init(_ layers: [ReferenceWorkloads.Layer]) {
        self.layers = layers.map { Linear(weight: $0.weight, bias: $0.bias) }
        var members: [any Layer<Float>] = []
        for (index, layer) in self.layers.enumerated() {
            members.append(layer)
            if index < self.layers.count - 1 { members.append(Tanh<Float>()) }
        }
        network = Sequential(members)
    }

    var parameters: [Tensor<Float>] { layers.flatMap { [$0.weight, $0.bias!] } }

    func callAsFunction(_ t: Double, _ y: Tensor<Float>) -> Tensor<Float> {
        network(y)
    }
}

/// The batch sizes to run: 1, 64 and 4096, or those listed in the environment variable
/// `NEURALODE_BENCH_BATCHES` (comma-separated), for profiling one size.
private func selectedBatchSizes() -> [Int] {
    guard let list = ProcessInfo.processInfo.environment["NEURALODE_BENCH_BATCHES"] else {
        return [1, 64, 4096]
    }
    return list.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
}

private func runSolverBenchmarks(_ context: BenchmarkContext) {
    let name = "mlp_ode_solve"
    // The same solve with this package's default controller (SciPy's rule), without a reference.
    let defaultControllerName = "mlp_ode_solve_default_controller"
    guard context.wants(name) || context.wants(defaultControllerName) || context.wants("mlp_field_forward")
    else { return }
    let workloads = ReferenceWorkloads.shared
    let model = ReferenceMLP(workloads.dynamicsLayers)
    var options = ODESolverOptions(
        relativeTolerance: .scalar(workloads.dynamicsRelativeTolerance),
        absoluteTolerance: .scalar(workloads.dynamicsAbsoluteTolerance))
    if ProcessInfo.processInfo.environment["NEURALODE_BENCH_TRACE_STEPS"] != nil {
        // Prints every accepted step, to compare step sequences with the reference libraries.
        options.stepObserver = { report in
            writeStandardError("step to t \(report.time), size \(report.stepSize), \(report.statistics)\n")
        }
    }
    // The reference row uses the step-size rule of diffrax and torchdiffeq, which never shrink
    // the step after an accepted one. At batch 1 and 64 both sides then take the same number of
    // steps. At batch 4096 this package takes one more, because diffrax's error estimate is
    // 2/3 of the standard one (docs/solvers.md).
    let configurations: [(name: String, controller: StepSizeController, label: String)] = [
        (name, .nonShrinking, "nonShrinking (diffrax's and torchdiffeq's rule)"),
        (defaultControllerName, .integral, "integral (the default, SciPy's rule)"),
    ]
    let interval = [workloads.dynamicsStartTime, workloads.dynamicsEndTime]
    // As in the reference scripts: one solve per sample, 20 samples after 3 warm-up solves.
    let repeats = context.repeatsOverride ?? (context.quick ? 5 : 20)
    let warmup = context.quick ? 1 : 3

    for batchSize in selectedBatchSizes() {
        guard let y0 = workloads.dynamicsInitialStates[batchSize] else {
            fail("the reference workloads have no mlp_dynamics.y0 for batch \(batchSize)")
        }
        var referenceEvaluations = 0
        for configuration in configurations {
            // The reference configuration always runs once, for the evaluation count of the
            // field row.
            if configuration.name != name && !context.wants(configuration.name) { continue }
            var solveOptions = options
            solveOptions.stepSizeController = configuration.controller
            func solve() -> NeuralODESolution<Float> {
                withoutGradients {
                    do {
                        return try solveODE(model.callAsFunction, y0, at: interval, options: solveOptions)
                    } catch {
                        fail("\(configuration.name) batch \(batchSize): \(error)")
                    }
                }
            }
            let check = solve()
            if configuration.name == name { referenceEvaluations = check.statistics.functionEvaluations }
            guard context.wants(configuration.name) else { continue }
            let y1 = check.trajectory.scalars.suffix(y0.scalarCount)
            let y1AbsoluteMean = y1.reduce(0.0) { $0 + Double(abs($1)) } / Double(y1.count)
            let times = timeCalls(warmup: warmup, repeats: repeats) { blackHole(solve()) }
            var record = BenchmarkRecord(name: configuration.name, size: batchSize, samples: times.samples)
            times.annotate(&record)
            record.add("method", .string("solveODE dopri5, no recording"))
            record.add("controller", .string(configuration.label))
            record.add("nfe", .int(check.statistics.functionEvaluations))
            record.add("accepted_steps", .int(check.statistics.acceptedSteps))
            record.add("rejected_steps", .int(check.statistics.rejectedSteps))
            record.add("rtol", .double(workloads.dynamicsRelativeTolerance))
            record.add("atol", .double(workloads.dynamicsAbsoluteTolerance))
            record.add("y1_abs_mean", .double(y1AbsoluteMean))
            record.note = "nfe \(check.statistics.functionEvaluations)"
            context.report(record)
        }

        // One evaluation of the dynamics alone, to split the solve into evaluations and the
        // solver's own work. No reference row.
        if context.wants("mlp_field_forward") {
            let fieldTimes = withoutGradients {
                timeCalls(warmup: 5, repeats: context.quick ? 7 : 30, callsPerSample: 16) {
                    blackHole(model(0, y0))
                }
            }
            var fieldRecord = BenchmarkRecord(
                name: "mlp_field_forward", size: batchSize, samples: fieldTimes.samples)
            fieldTimes.annotate(&fieldRecord)
            fieldRecord.add("shape", .string("one evaluation of the 2-64-64-2 tanh MLP, no recording"))
            fieldRecord.note = "x nfe \(referenceEvaluations) = "
                + formatDuration(fieldTimes.samples.median * Double(referenceEvaluations))
            context.report(fieldRecord)
        }
    }
}
