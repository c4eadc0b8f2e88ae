#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time of the calling thread in seconds.
///
/// Only this thread counts, because OpenBLAS's worker threads keep spinning for a while after a
/// product and would add their idle spinning to a process-wide figure.
@inline(__always)
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// Wall-clock and CPU times per call of short samples.
///
/// On a loaded machine the wall time of a sample includes the time the process waited for a
/// core, so a long sample is inflated by the share of the core it did not get. Short samples
/// (one solve, one training iteration, or a few calls of a microsecond-scale body) usually run
/// without being preempted, and their median is close to the unloaded time. The CPU time is
/// recorded beside it as a check: when the two medians differ much, the load distorted the run.
/// It is the calling thread's time only, so it leaves out work that BLAS hands to its other
/// threads (the batch-4096 products).
struct CallTimes {
    /// Wall time per call of each sample.
    var wall: [Double]
    /// CPU time of the calling thread per call of each sample.
    var cpu: [Double]
    /// Calls per sample.
    var callsPerSample: Int

    var samples: TimingSamples { TimingSamples(perCall: wall, loopCount: callsPerSample) }
    var cpuMedian: Double { TimingSamples(perCall: cpu, loopCount: callsPerSample).median }

    /// Adds `cpu_median_ms` and `calls_per_sample` to a record.
    func annotate(_ record: inout BenchmarkRecord) {
        record.add("cpu_median_ms", .double(cpuMedian * 1e3))
        record.add("calls_per_sample", .int(callsPerSample))
    }
}

/// Times `repeats` samples of `callsPerSample` calls each, after `warmup` discarded calls.
func timeCalls(warmup: Int, repeats: Int, callsPerSample: Int = 1, _ body: () -> Void) -> CallTimes {
    for _ in 0..<warmup { body() }
    var times = CallTimes(wall: [], cpu: [], callsPerSample: callsPerSample)
    for _ in 0..<repeats {
        let startCPU = threadCPUSeconds()
        let start = monotonicSeconds()
        for _ in 0..<callsPerSample { body() }
        let wall = monotonicSeconds() - start
        let cpu = threadCPUSeconds() - startCPU
        times.wall.append(wall / Double(callsPerSample))
        times.cpu.append(cpu / Double(callsPerSample))
    }
    return times
}
