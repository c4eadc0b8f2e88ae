import VectorKernels

/// Whole-buffer elementary functions, one entry point per scalar type: the kernels of
/// `VectorKernels`, on two threads for large buffers.
enum VectorMath {
    static func apply(
        _ function: ElementaryFunction, _ x: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        inHalves(x, y, count: count, vectorWidth: 16) { x, y, count in
            ElementwiseKernels.apply(function, x, y, count: count)
        }
    }

    static func apply(
        _ function: ElementaryFunction, _ x: UnsafePointer<Double>,
        _ y: UnsafeMutablePointer<Double>, count: Int
    ) {
        inHalves(x, y, count: count, vectorWidth: 8) { x, y, count in
            ElementwiseKernels.apply(function, x, y, count: count)
        }
    }

    /// Buffers with at least this many values are split in two halves that run on two threads.
    static let minimumSplitCount = 1 << 16

    /// Runs `body` on the whole buffer, or on two halves on two threads from
    /// `minimumSplitCount` values on. The first half is a whole number of `vectorWidth` vectors.
    ///
    /// A tanh of 262 144 `Float` values (a [4096, 64] layer) takes about 46 µs on one core of
    /// the 2-core development machine (2.8 ns per 16 values), far more than a `TwoThreads.run`
    /// fork and join, which takes a few microseconds (an estimate from solver profiles).
    private static func inHalves<Scalar>(
        _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int,
        vectorWidth: Int,
        _ body: (UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, Int) -> Void
    ) {
        guard count >= minimumSplitCount else {
            body(x, y, count)
            return
        }
        let split = (count / 2) & ~(vectorWidth - 1)
        TwoThreads.run { half in
            let start = half == 0 ? 0 : split
            let end = half == 0 ? split : count
            body(x + start, y + start, end - start)
        }
    }
}
