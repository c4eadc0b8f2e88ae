/// Sums of contiguous values on SIMD vectors.
///
/// A plain loop `total += x[i]` cannot be vectorised, because that would reorder the additions,
/// so it waits one addition latency per value. These kernels keep 16 `Float` (8 `Double`) partial
/// sums in two vectors and add them at the end. The result differs from the sequential sum by
/// rounding only, and its error bound is smaller.
enum VectorReduction {
    /// Returns the sum of `count` values starting at `x`.
    @inline(__always)
    static func sum<S: TensorScalar>(_ x: UnsafePointer<S>, count: Int) -> S {
        // The branches fold away in each specialisation.
        if S.self == Float.self {
            let total = sum(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), count: count)
            return unsafeBitCast(total, to: S.self)
        }
        if S.self == Double.self {
            let total = sum(UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), count: count)
            return unsafeBitCast(total, to: S.self)
        }
        var total: S = 0
        for i in 0..<count { total += x[i] }
        return total
    }

    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        sumVectors(x, count: count, as: SIMD8<Float>.self)
    }

    static func sum(_ x: UnsafePointer<Double>, count: Int) -> Double {
        sumVectors(x, count: count, as: SIMD4<Double>.self)
    }

    @inline(__always)
    private static func sumVectors<V: SIMD>(
        _ x: UnsafePointer<V.Scalar>, count: Int, as _: V.Type
    ) -> V.Scalar where V.Scalar: BinaryFloatingPoint {
        let width = V.scalarCount
        var first = V()
        var second = V()
        var i = 0
        while i + 2 * width <= count {
            first += UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            second += UnsafeRawPointer(x + i + width).loadUnaligned(as: V.self)
            i += 2 * width
        }
        if i + width <= count {
            first += UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            i += width
        }
        var total = (first + second).sum()
        while i < count {
            total += x[i]
            i += 1
        }
        return total
    }
}
