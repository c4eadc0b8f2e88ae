#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import NeuralODE

/// Loss, forward evaluations and backward evaluations of one training iteration.
typealias TrainingIterationResult = (loss: Double, forward: Int, backward: Int)

/// Times, losses and evaluation counts of a training benchmark that takes one iteration per
/// sample, with training continuing across the warm-up and the timed iterations.
struct TrainingTimes {
    /// Wall and calling-thread CPU times of the timed iterations.
    var calls: CallTimes
    /// CPU time of every thread of the process, per timed iteration.
    var processCPU: [Double]
    /// Forward evaluations per timed iteration.
    var forwardCounts: [Int]
    /// Backward evaluations per timed iteration.
    var backwardCounts: [Int]
    /// The first iteration, a warm-up one unless `warmup` is zero.
    var first: TrainingIterationResult
    /// Loss of the last timed iteration.
    var lastLoss: Double

    var processCPUMedian: Double { TimingSamples(perCall: processCPU, loopCount: 1).median }
    var forwardMedian: Double { medianOf(forwardCounts) }
    var backwardMedian: Double { medianOf(backwardCounts) }

    /// Returns a record of the wall times with `cpu_median_ms` and `calls_per_sample`.
    func makeRecord(name: String, size: Int) -> BenchmarkRecord {
        var record = BenchmarkRecord(name: name, size: size, samples: calls.samples)
        calls.annotate(&record)
        return record
    }

    /// A table note such as "nfe fwd 26 bwd 38; iter0 26/38": the median evaluation counts and
    /// those of the first iteration.
    var evaluationNote: String {
        "nfe fwd \(formatSignificant(forwardMedian, digits: 3)) "
            + "bwd \(formatSignificant(backwardMedian, digits: 3)); "
            + "iter0 \(first.forward)/\(first.backward)"
    }

    /// Adds the median and range of the evaluation counts, the first iteration's loss and
    /// counts (named `loss_<firstLabel>`, `nfe_forward_<firstLabel>`, `nfe_backward_<firstLabel>`)
    /// and `loss_last`, in that order.
    func addEvaluations(to record: inout BenchmarkRecord, firstLabel: String) {
        record.add("nfe_forward", .double(forwardMedian))
        record.add("nfe_backward", .double(backwardMedian))
        record.add("nfe_forward_range", .string("\(forwardCounts.min()!)-\(forwardCounts.max()!)"))
        record.add("nfe_backward_range", .string("\(backwardCounts.min()!)-\(backwardCounts.max()!)"))
        record.add("loss_\(firstLabel)", .double(first.loss))
        record.add("nfe_forward_\(firstLabel)", .int(first.forward))
        record.add("nfe_backward_\(firstLabel)", .int(first.backward))
        record.add("loss_last", .double(lastLoss))
    }
}

/// Returns the three gradient methods that the training benchmarks compare, with the text of
/// their `method` field. The rows are named `<prefix>_train_direct`,
/// `<prefix>_train_<adjointSuffix>` and `<prefix>_train_checkpointed`.
func trainingGradientVariants(
    prefix: String, adjointSuffix: String
) -> [(name: String, gradient: GradientMethod, method: String)] {
    [
        ("\(prefix)_train_direct", .backpropagation, "solveODE dopri5, backpropagation through the solver"),
        ("\(prefix)_train_\(adjointSuffix)", .adjoint, "solveODE dopri5, adjoint (seminorm)"),
        (
            "\(prefix)_train_checkpointed", .checkpointedAdjoint(),
            "solveODE dopri5, checkpointed adjoint (1 step per checkpoint)"
        ),
    ]
}

/// Runs `warmup + repeats` training iterations and times the last `repeats` of them, one
/// iteration per sample.
///
/// `progress`, when given, receives the index, result and wall time of every iteration,
/// warm-up ones included.
func timeTrainingIterations(
    warmup: Int, repeats: Int,
    progress: ((Int, TrainingIterationResult, Double) -> Void)? = nil,
    _ iteration: () -> TrainingIterationResult
) -> TrainingTimes {
    precondition(repeats >= 1, "timeTrainingIterations: repeats must be at least 1, got \(repeats)")
    var times = TrainingTimes(
        calls: CallTimes(wall: [], cpu: [], callsPerSample: 1), processCPU: [], forwardCounts: [],
        backwardCounts: [], first: (loss: 0, forward: 0, backward: 0), lastLoss: 0)
    for index in 0..<(warmup + repeats) {
        let startProcessCPU = processCPUSeconds()
        let startCPU = threadCPUSeconds()
        let start = monotonicSeconds()
        let result = iteration()
        let elapsed = monotonicSeconds() - start
        let elapsedCPU = threadCPUSeconds() - startCPU
        let elapsedProcessCPU = processCPUSeconds() - startProcessCPU
        times.lastLoss = result.loss
        if index == 0 { times.first = result }
        if index >= warmup {
            times.calls.wall.append(elapsed)
            times.calls.cpu.append(elapsedCPU)
            times.processCPU.append(elapsedProcessCPU)
            times.forwardCounts.append(result.forward)
            times.backwardCounts.append(result.backward)
        }
        progress?(index, result, elapsed)
    }
    return times
}

/// CPU time of every thread of the process in seconds, as Python's `time.process_time()`.
///
/// It includes OpenBLAS's and oneDNN's worker threads, also while they spin waiting for work.
/// On a loaded machine it stays close to the unloaded work, while the wall time also counts
/// the time spent waiting for a core.
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
