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

/// Runs this executable again with the configuration in the environment and parses the line
/// it prints.
private func spawnMemoryChild(_ configuration: String) -> MemoryResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executablePath())
    process.arguments = ["memory"]
    var environment = ProcessInfo.processInfo.environment
    environment[childVariable] = configuration
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    // The child's progress lines would repeat the parent's.
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    do {
        try process.run()
    } catch {
        fail("memory: cannot start a measurement process: \(error)")
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0,
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("memory-result ") })
    else {
        fail(
            "memory: the measurement of \(configuration) failed (status \(process.terminationStatus)): "
                + text)
    }
    let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard values.count == 5 else { fail("memory: cannot parse '\(line)'") }
    return MemoryResult(
        forward: Int(values[0]), backward: Int(values[1]), seconds: values[2],
        growthMiB: values[3], baselineMiB: values[4])
}

private func executablePath() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { return CommandLine.arguments[0] }
    return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
    resetPeakResidentMemory()
    let baseline = statusKiB("VmRSS")
    let start = monotonicSeconds()
    let counts = iteration(until: endTime)
    let seconds = monotonicSeconds() - start
    let peak = statusKiB("VmHWM")
    print(
        "memory-result \(counts.forward) \(counts.backward) \(seconds) "
            + "\(Double(peak - baseline) / 1024) \(Double(baseline) / 1024)")
    fflush(nil)
    exit(0)
}

/// Resets VmHWM to the current resident size (Linux 4.0 and later).
private func resetPeakResidentMemory() {
    let descriptor = open("/proc/self/clear_refs", O_WRONLY)
    guard descriptor >= 0 else { fail("memory: cannot open /proc/self/clear_refs") }
    let written = write(descriptor, "5", 1)
    close(descriptor)
    guard written == 1 else { fail("memory: cannot reset the peak resident size") }
}

/// Reads a `kB` field such as `VmRSS` or `VmHWM` from /proc/self/status.
private func statusKiB(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
        fail("memory: cannot read /proc/self/status")
    }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        let digits = line.dropFirst(field.count + 1).filter(\.isNumber)
        if let value = Int(digits) { return value }
    }
    fail("memory: no \(field) in /proc/self/status")
}
