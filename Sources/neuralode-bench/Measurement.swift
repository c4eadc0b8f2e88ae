#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic time in seconds.
@inline(__always)
func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// Keeps `value` alive and opaque to the optimiser, so that a timed result is not removed as
/// dead code.
@inline(never)
@_optimize(none)
func blackHole<T>(_ value: T) {}

/// Timing settings for one benchmark, as in `Benchmarks/reference/bench_common.py`: each
/// sample calls the body `loopCount` times, where `loopCount` is the smallest power of two
/// (at least one) that makes a sample last `minimumSampleSeconds`.
struct TimingPlan {
    /// Timed samples per benchmark; `--repeats` overrides it.
    var repeats: Int
    /// Calls before calibration, discarded.
    var warmupCalls: Int
    /// Target duration of one sample, in seconds.
    var minimumSampleSeconds: Double
}

/// Per-call times of a benchmark body, in seconds.
struct TimingSamples {
    /// One mean per-call time per sample.
    var perCall: [Double]
    /// Calls per sample.
    var loopCount: Int

    /// Returns the `fraction` quantile with linear interpolation between order statistics (numpy's
    /// default, as the reference scripts use).
    func quantile(_ fraction: Double) -> Double {
        let ordered = perCall.sorted()
        precondition(!ordered.isEmpty, "quantile of an empty sample list")
        let position = fraction * Double(ordered.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Int(position.rounded(.up))
        let weight = position - Double(lower)
        return ordered[lower] * (1 - weight) + ordered[upper] * weight
    }

    var median: Double { quantile(0.5) }
    var p90: Double { quantile(0.9) }
}

/// Runs `body` in calibrated loops and returns the per-call times.
func measure(_ plan: TimingPlan, _ body: () -> Void) -> TimingSamples {
    for _ in 0..<plan.warmupCalls { body() }
    let loopCount = calibratedLoopCount(plan, body)
    // One discarded sample at the calibrated count, as in the reference scripts.
    var perCall: [Double] = []
    for index in 0..<(plan.repeats + 1) {
        let time = timeLoop(loopCount, body)
        if index > 0 { perCall.append(time) }
    }
    return TimingSamples(perCall: perCall, loopCount: loopCount)
}

/// Times two bodies with interleaved samples (first, second, first, …), so that a change in
/// the machine's load during the run affects both alike and their ratio stays meaningful.
func measureInterleaved(
    _ plan: TimingPlan, _ first: () -> Void, _ second: () -> Void
) -> (first: TimingSamples, second: TimingSamples) {
    for _ in 0..<plan.warmupCalls {
        first()
        second()
    }
    let firstCount = calibratedLoopCount(plan, first)
    let secondCount = calibratedLoopCount(plan, second)
    var firstTimes: [Double] = []
    var secondTimes: [Double] = []
    for index in 0..<(plan.repeats + 1) {
        let firstTime = timeLoop(firstCount, first)
        let secondTime = timeLoop(secondCount, second)
        if index > 0 {
            firstTimes.append(firstTime)
            secondTimes.append(secondTime)
        }
    }
    return (
        TimingSamples(perCall: firstTimes, loopCount: firstCount),
        TimingSamples(perCall: secondTimes, loopCount: secondCount)
    )
}

/// Returns the mean time per call of `loopCount` calls, in seconds.
@inline(__always)
private func timeLoop(_ loopCount: Int, _ body: () -> Void) -> Double {
    let start = monotonicSeconds()
    for _ in 0..<loopCount { body() }
    return (monotonicSeconds() - start) / Double(loopCount)
}

/// Returns the smallest power of two, at least 1 and at most 2²⁴, of calls of `body` that
/// last `plan.minimumSampleSeconds`.
private func calibratedLoopCount(_ plan: TimingPlan, _ body: () -> Void) -> Int {
    var loopCount = 1
    while true {
        let start = monotonicSeconds()
        for _ in 0..<loopCount { body() }
        let elapsed = monotonicSeconds() - start
        if elapsed >= plan.minimumSampleSeconds || loopCount >= 1 << 24 { break }
        // Jump close to the target in one step, then keep doubling.
        if elapsed > 0 {
            let targetCount = Double(loopCount) * plan.minimumSampleSeconds / elapsed
            var next = loopCount * 2
            while Double(next) < targetCount && next < 1 << 24 { next *= 2 }
            loopCount = next
        } else {
            loopCount *= 2
        }
    }
    return loopCount
}
