import Experiments
import Foundation
import NeuralODE
import ODESolvers
import TensorEngine

#if canImport(Glibc)
import Glibc
#endif

extension BenchmarkArea {
    /// Peak resident memory of one gradient computation against the number of evaluations.
    static let memory = BenchmarkArea(
        name: "memory",
        summary: "peak memory of a solve and its gradient, short and long intervals, per gradient method",
        run: runMemoryBenchmarks)
}

/// The environment variable that turns a run of this executable into one measurement.
private let childVariable = "NEURALODE_BENCH_MEMORY_CHILD"

/// The gradient methods compared, by the name used in records.
private let memoryMethods: [(name: String, gradient: GradientMethod)] = [
    ("backpropagation", .backpropagation),
    ("adjoint", .adjoint),
    ("checkpointed_adjoint", .checkpointedAdjoint()),
]

/// Batch of the MLP dynamics; large enough that one evaluation's recorded values (about
/// 64 · 260 floats) stand out from allocator noise.
private let memoryBatch = 64

/// End times of the short and long solves from t = 0. With the reference MLP and batch 64
/// at rtol 1e-6, atol 1e-8 they take about 100 and 1000 forward evaluations. The environment
/// variable `NEURALODE_BENCH_MEMORY_T1` (comma-separated) replaces them.
private var memoryEndTimes: [Double] {
    guard let list = ProcessInfo.processInfo.environment["NEURALODE_BENCH_MEMORY_T1"] else {
        return [25, 4000]
    }
    return list.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
}

private func runMemoryBenchmarks(_ context: BenchmarkContext) {
    if let configuration = ProcessInfo.processInfo.environment[childVariable] {
        runMemoryChild(configuration)
    }
    for method in memoryMethods {
        let name = "ode_memory_\(method.name)"
        guard context.wants(name) else { continue }
        for endTime in memoryEndTimes {
            let result = spawnMemoryChild("\(method.name),\(endTime)")
            let samples = TimingSamples(perCall: [result.seconds], loopCount: 1)
            var record = BenchmarkRecord(name: name, size: Int(endTime), samples: samples)
            record.add("method", .string("solveODE dopri5, gradient \(method.name)"))
            record.add("batch", .int(memoryBatch))
            record.add("t1", .double(endTime))
            record.add("nfe_forward", .int(result.forward))
            record.add("nfe_backward", .int(result.backward))
            record.add("peak_rss_growth_mib", .double(result.growthMiB))
            record.add("baseline_rss_mib", .double(result.baselineMiB))
            record.add(
                "memory_note",
                .string(
                    "fresh process per row; VmHWM after the gradient minus VmRSS before it, after one "
                        + "short warm-up solve and a reset of the peak through /proc/self/clear_refs"))
            record.note =
                "peak +\(formatFixed(result.growthMiB, decimals: 1)) MiB, "
                + "nfe \(result.forward)/\(result.backward)"
            context.report(record)
        }
    }
}

private struct MemoryResult {
    var forward: Int
    var backward: Int
    var seconds: Double
    var growthMiB: Double
    var baselineMiB: Double
}

/// Measures `configuration` in a fresh process running `runMemoryChild`.
private func spawnMemoryChild(_ configuration: String) -> MemoryResult {
    let values = runMeasurementProcess(
        area: "memory", variable: childVariable, configuration: configuration, resultPrefix: "memory-result",
        valueCount: 5, label: "memory")
    return MemoryResult(
        forward: Int(values[0]), backward: Int(values[1]), seconds: values[2],
        growthMiB: values[3], baselineMiB: values[4])
}

/// Measures one configuration, prints `memory-result forward backward seconds growth baseline`
/// and exits.
private func runMemoryChild(_ configuration: String) -> Never {
    let parts = configuration.split(separator: ",")
    guard parts.count == 2, let method = memoryMethods.first(where: { $0.name == parts[0] }),
        let endTime = Double(parts[1])
    else { fail("memory: bad configuration '\(configuration)'") }
    let workloads = ReferenceWorkloads.shared
    let model = ReferenceMLP(workloads.dynamicsLayers)
    guard let y0 = workloads.dynamicsInitialStates[memoryBatch] else {
        fail("memory: the reference workloads have no mlp_dynamics.y0 for batch \(memoryBatch)")
    }
    let options = ODESolverOptions(
        relativeTolerance: .scalar(workloads.dynamicsRelativeTolerance),
        absoluteTolerance: .scalar(workloads.dynamicsAbsoluteTolerance))

    func iteration(until end: Double) -> (forward: Int, backward: Int) {
        do {
            let solution = try solveODE(
                model.callAsFunction, y0, at: [0, end], options: options, gradient: method.gradient,
                parameters: model.parameters)
            let last = solution.trajectory
            let loss = (last * last).mean()
            blackHole(gradients(of: loss, withRespectTo: model.parameters))
            try solution.backward.check()
            return (solution.statistics.functionEvaluations, solution.backward.statistics.functionEvaluations)
        } catch {
            fail("memory \(configuration): \(error)")
        }
    }

    // A short solve first, so that lazily created state (BLAS buffers, caches) is in the baseline.
    _ = iteration(until: 0.5)
    guard ProcessMemory.resetPeakResidentBytes() else { fail("memory: cannot write /proc/self/clear_refs") }
    let baseline = processStatusKiB("VmRSS", label: "memory")
    let start = monotonicSeconds()
    let counts = iteration(until: endTime)
    let seconds = monotonicSeconds() - start
    let peak = processStatusKiB("VmHWM", label: "memory")
    print(
        "memory-result \(counts.forward) \(counts.backward) \(seconds) "
            + "\(Double(peak - baseline) / 1024) \(Double(baseline) / 1024)")
    fflush(nil)
    exit(0)
}
