import Foundation
import Synchronization
import Testing

@testable import TensorEngine

@Suite("TwoThreads fork-join")
struct TwoThreadsTests {
    @Test("each half runs once on its own range")
    func eachHalfRunsOnce() {
        let rounds = 500
        let count = 1000
        var values = [Int](repeating: 0, count: count)
        var calls = [0, 0]
        values.withUnsafeMutableBufferPointer { values in
            calls.withUnsafeMutableBufferPointer { calls in
                for _ in 0..<rounds {
                    TwoThreads.run { half in
                        calls[half] += 1
                        for index in (half * count / 2)..<((half + 1) * count / 2) {
                            values[index] += 1
                        }
                    }
                }
            }
        }
        #expect(calls[0] == rounds)
        #expect(calls[1] == rounds)
        #expect(values.allSatisfy { $0 == rounds })
    }

    @Test("nested calls run every quarter once")
    func nestedCalls() {
        let rounds = 200
        var counts = [Int](repeating: 0, count: 4)
        counts.withUnsafeMutableBufferPointer { counts in
            for _ in 0..<rounds {
                TwoThreads.run { outer in
                    TwoThreads.run { inner in
                        counts[outer * 2 + inner] += 1
                    }
                }
            }
        }
        #expect(counts == [rounds, rounds, rounds, rounds])
    }

    @Test("concurrent callers keep their own sums")
    func concurrentCallers() async {
        let taskCount = 8
        let callsPerTask = 1000
        let results = await withTaskGroup(of: (task: Int, sums: [Int]).self) { group in
            for task in 0..<taskCount {
                group.addTask {
                    var sums = [0, 0]
                    sums.withUnsafeMutableBufferPointer { sums in
                        for call in 1...callsPerTask {
                            TwoThreads.run { half in
                                sums[half] += call * (task + 1) * (half + 1)
                            }
                        }
                    }
                    return (task, sums)
                }
            }
            var results: [(task: Int, sums: [Int])] = []
            for await result in group { results.append(result) }
            return results
        }

        #expect(results.count == taskCount)
        let sumOfCalls = callsPerTask * (callsPerTask + 1) / 2
        for (task, sums) in results {
            #expect(sums[0] == sumOfCalls * (task + 1), "task \(task)")
            #expect(sums[1] == 2 * sumOfCalls * (task + 1), "task \(task)")
        }
    }

    @Test("calls after the worker blocked still finish")
    func callsAfterIdle() {
        // Pauses of 2 ms are far longer than the worker spins, so it blocks before each call.
        var calls = [0, 0]
        calls.withUnsafeMutableBufferPointer { calls in
            for _ in 0..<5 {
                usleep(2000)
                TwoThreads.run { half in calls[half] += 1 }
            }
        }
        #expect(calls == [5, 5])
    }

    @Test("caller waits for a slow worker half")
    func callerWaitsForSlowHalf() {
        // Half 0 waits up to 0.1 s for half 1 to start, so that the worker usually runs half 1
        // and the caller has to block until it ends. Half 0 cannot wait without limit, because
        // when the worker is late the caller runs half 1 itself, after half 0.
        let secondHalfStarted = Atomic<Bool>(false)
        var results = [0, 0]
        results.withUnsafeMutableBufferPointer { results in
            TwoThreads.run { half in
                if half == 0 {
                    let deadline = Date().addingTimeInterval(0.1)
                    while !secondHalfStarted.load(ordering: .acquiring) && Date() < deadline {}
                    results[0] = 1
                } else {
                    secondHalfStarted.store(true, ordering: .releasing)
                    usleep(2000)
                    results[1] = 2
                }
            }
        }
        #expect(results == [1, 2])
    }

    @Test("split tanh equals the one-thread result")
    func splitTanhMatchesOneThread() {
        // 300,000 values are split in two halves. Pieces of 40,000 (a multiple of the vector
        // width, below `VectorMath.minimumSplitCount`) each run on one thread.
        let count = 300_000
        let pieceCount = 40_000
        #expect(count >= VectorMath.minimumSplitCount)
        #expect(pieceCount < VectorMath.minimumSplitCount)

        var generator = RandomGenerator(seed: 5)
        let inputs = (0..<count).map { _ in 12 * generator.nextUniform() - 6 }

        let floatInputs = inputs.map { Float($0) }
        var floatSplit = [Float](repeating: 0, count: count)
        var floatPieces = [Float](repeating: 0, count: count)
        Float.apply(.tanh, floatInputs, &floatSplit, count: count)
        for start in stride(from: 0, to: count, by: pieceCount) {
            let piece = min(pieceCount, count - start)
            floatInputs.withUnsafeBufferPointer { x in
                floatPieces.withUnsafeMutableBufferPointer { y in
                    Float.apply(.tanh, x.baseAddress! + start, y.baseAddress! + start, count: piece)
                }
            }
        }
        #expect(floatSplit == floatPieces)

        var doubleSplit = [Double](repeating: 0, count: count)
        var doublePieces = [Double](repeating: 0, count: count)
        Double.apply(.tanh, inputs, &doubleSplit, count: count)
        for start in stride(from: 0, to: count, by: pieceCount) {
            let piece = min(pieceCount, count - start)
            inputs.withUnsafeBufferPointer { x in
                doublePieces.withUnsafeMutableBufferPointer { y in
                    Double.apply(
                        .tanh, x.baseAddress! + start, y.baseAddress! + start, count: piece)
                }
            }
        }
        #expect(doubleSplit == doublePieces)
    }
}

@Suite("Engine environment variables")
struct EngineEnvironmentTests {
    @Test("invalid values are reported")
    func invalidValues() async {
        // In a child process, because the engine reads these variables once per process. The
        // child prints one message per line.
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            setenv("NEURALODE_SPIN_MICROSECONDS", "abc", 1)
            setenv("NEURALODE_GEMM", "bogus", 1)
            setenv("NEURALODE_CONVOLUTION", "cudnn", 1)
            for problem in EngineEnvironment.environmentProblems() { print(problem.message) }
        }
        let output = String(decoding: result?.standardOutputContent ?? [], as: UTF8.self)
        let lines = output.split(separator: "\n")
        #expect(lines.count == 3, "output: \(output)")
        #expect(output.contains(
            "NEURALODE_GEMM=bogus is not a valid matrix product backend. Set it to 'onednn' or 'openblas', or unset it."))
        #expect(output.contains(
            "NEURALODE_CONVOLUTION=cudnn is not a valid convolution backend. Set it to 'onednn' or 'im2col', or unset it."))
        #expect(output.contains("NEURALODE_SPIN_MICROSECONDS=abc is not a valid spin time"))
    }

    @Test("valid values report no problem")
    func validValues() async {
        await #expect(processExitsWith: .exitCode(3)) {
            setenv("NEURALODE_SPIN_MICROSECONDS", "0", 1)
            setenv("NEURALODE_GEMM", "OpenBLAS", 1)
            setenv("NEURALODE_CONVOLUTION", "im2col", 1)
            exit(EngineEnvironment.environmentProblems().isEmpty ? 3 : 4)
        }
    }
}
