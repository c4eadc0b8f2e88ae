/// Whole-buffer elementary functions, one entry point per scalar type.
///
/// exp, log, tanh, sigmoid, softplus and sqrt run on SIMD vectors. `FloatVectorMath` and
/// `DoubleVectorMath` state the methods and their measured accuracy. sin and cos still call the
/// C library one value at a time.
enum VectorMath {
    static func apply(
        _ function: ElementaryFunction, _ x: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        if function == .sin || function == .cos {
            Float.applyElementwise(function, x, y, count: count)
            return
        }
        inHalves(x, y, count: count, vectorWidth: 8) { x, y, count in
            applyOnOneThread(function, x, y, count: count)
        }
    }

    static func apply(
        _ function: ElementaryFunction, _ x: UnsafePointer<Double>,
        _ y: UnsafeMutablePointer<Double>, count: Int
    ) {
        if function == .sin || function == .cos {
            Double.applyElementwise(function, x, y, count: count)
            return
        }
        inHalves(x, y, count: count, vectorWidth: 4) { x, y, count in
            applyOnOneThread(function, x, y, count: count)
        }
    }

    /// Applies a vectorised function on the calling thread. Each case names its kernel
    /// directly, so the kernel is inlined into the loop instead of called once per vector.
    private static func applyOnOneThread(
        _ function: ElementaryFunction, _ x: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        typealias Kernels = FloatVectorMath
        switch function {
        case .exp: mapVectors(x, y, count: count, Kernels.exp)
        case .log: mapVectors(x, y, count: count, Kernels.log)
        case .tanh: mapVectors(x, y, count: count, Kernels.tanh)
        case .sigmoid: mapVectors(x, y, count: count, Kernels.sigmoid)
        case .softplus: mapVectors(x, y, count: count, Kernels.softplus)
        case .sqrt: mapVectors(x, y, count: count) { (v: SIMD8<Float>) in v.squareRoot() }
        case .sin, .cos: Float.applyElementwise(function, x, y, count: count)
        }
    }

    private static func applyOnOneThread(
        _ function: ElementaryFunction, _ x: UnsafePointer<Double>,
        _ y: UnsafeMutablePointer<Double>, count: Int
    ) {
        typealias Kernels = DoubleVectorMath
        switch function {
        case .exp: mapVectors(x, y, count: count, Kernels.exp)
        case .log: mapVectors(x, y, count: count, Kernels.log)
        case .tanh: mapVectors(x, y, count: count, Kernels.tanh)
        case .sigmoid: mapVectors(x, y, count: count, Kernels.sigmoid)
        case .softplus: mapVectors(x, y, count: count, Kernels.softplus)
        case .sqrt: mapVectors(x, y, count: count) { (v: SIMD4<Double>) in v.squareRoot() }
        case .sin, .cos: Double.applyElementwise(function, x, y, count: count)
        }
    }

    /// Buffers with at least this many values are split in two halves that run on two threads.
    static let minimumSplitCount = 1 << 16

    /// Runs `body` on the whole buffer, or on two halves on two threads from
    /// `minimumSplitCount` values on. The first half is a whole number of `vectorWidth` vectors.
    ///
    /// A tanh of 262 144 `Float` values (a [4096, 64] layer) takes about 0.2 ms on one core of
    /// the 2-core development machine, far more than the cost of `TwoThreads.run`.
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

    /// Applies `kernel` to `count` values, one vector at a time; the last partial vector is
    /// padded with ones. `x` and `y` may be the same buffer.
    @inline(__always)
    static func mapVectors<V: SIMD>(
        _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, count: Int,
        _ kernel: (V) -> V
    ) where V.Scalar: BinaryFloatingPoint {
        let width = V.scalarCount
        var i = 0
        while i + width <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: kernel(v), as: V.self)
            i += width
        }
        if i < count {
            var v = V(repeating: 1)
            for lane in 0..<(count - i) { v[lane] = x[i + lane] }
            let result = kernel(v)
            for lane in 0..<(count - i) { y[i + lane] = result[lane] }
        }
    }
}
