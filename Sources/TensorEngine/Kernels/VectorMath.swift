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

    static func apply(
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
