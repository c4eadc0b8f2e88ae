/// Reductions of one contiguous row on SIMD vectors: 8 `Float` or 4 `Double` lanes, one AVX2
/// register. The softmax, log-sum-exp, extremum, variance and cross-entropy kernels reduce their
/// rows with these when the reduced axis is the last one, and mean squared error its whole
/// buffer.
///
/// The entry points are generic over `TensorScalar` and branch on the concrete type. Inside a
/// kernel specialised for `Float` or `Double` the branch folds away. Sums are accumulated lane
/// by lane, so their rounding differs from a left-to-right loop by a few ulps.
enum RowReduction {
    /// Returns the maximum (or minimum) of `count ≥ 1` values, or NaN when any value is NaN.
    @inline(__always)
    static func extremum<S: TensorScalar>(_ row: UnsafePointer<S>, count: Int, largest: Bool) -> S {
        if S.self == Float.self {
            let result = SIMDRow<SIMD8<Float>>.extremum(rebound(row), count: count, largest: largest)
            return unsafeBitCast(result, to: S.self)
        }
        if S.self == Double.self {
            let result = SIMDRow<SIMD4<Double>>.extremum(rebound(row), count: count, largest: largest)
            return unsafeBitCast(result, to: S.self)
        }
        var result = row[0]
        var sawNaN = false
        for k in 0..<count {
            if largest ? row[k] > result : row[k] < result { result = row[k] }
            if row[k].isNaN { sawNaN = true }
        }
        return sawNaN ? .nan : result
    }

    /// Returns `Σ row[k]`.
    @inline(__always)
    static func sum<S: TensorScalar>(_ row: UnsafePointer<S>, count: Int) -> S {
        if S.self == Float.self {
            return unsafeBitCast(SIMDRow<SIMD8<Float>>.sum(rebound(row), count: count), to: S.self)
        }
        if S.self == Double.self {
            return unsafeBitCast(SIMDRow<SIMD4<Double>>.sum(rebound(row), count: count), to: S.self)
        }
        var total: S = 0
        for k in 0..<count { total += row[k] }
        return total
    }

    /// Returns `Σ a[k] · b[k]`.
    @inline(__always)
    static func dot<S: TensorScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, count: Int) -> S {
        if S.self == Float.self {
            let result = SIMDRow<SIMD8<Float>>.dot(rebound(a), rebound(b), count: count)
            return unsafeBitCast(result, to: S.self)
        }
        if S.self == Double.self {
            let result = SIMDRow<SIMD4<Double>>.dot(rebound(a), rebound(b), count: count)
            return unsafeBitCast(result, to: S.self)
        }
        var total: S = 0
        for k in 0..<count { total += a[k] * b[k] }
        return total
    }

    /// Returns `Σ (a[k] - b[k])²`.
    @inline(__always)
    static func squaredDistance<S: TensorScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, count: Int) -> S {
        if S.self == Float.self {
            let result = SIMDRow<SIMD8<Float>>.squaredDistance(rebound(a), rebound(b), count: count)
            return unsafeBitCast(result, to: S.self)
        }
        if S.self == Double.self {
            let result = SIMDRow<SIMD4<Double>>.squaredDistance(rebound(a), rebound(b), count: count)
            return unsafeBitCast(result, to: S.self)
        }
        var total: S = 0
        for k in 0..<count {
            let d = a[k] - b[k]
            total += d * d
        }
        return total
    }

    /// Returns `Σ (row[k] - center)²`.
    @inline(__always)
    static func squaredDeviation<S: TensorScalar>(_ row: UnsafePointer<S>, count: Int, center: S) -> S {
        if S.self == Float.self {
            let result = SIMDRow<SIMD8<Float>>.squaredDeviation(
                rebound(row), count: count, center: unsafeBitCast(center, to: Float.self))
            return unsafeBitCast(result, to: S.self)
        }
        if S.self == Double.self {
            let result = SIMDRow<SIMD4<Double>>.squaredDeviation(
                rebound(row), count: count, center: unsafeBitCast(center, to: Double.self))
            return unsafeBitCast(result, to: S.self)
        }
        var total: S = 0
        for k in 0..<count {
            let d = row[k] - center
            total += d * d
        }
        return total
    }

    /// Returns the same memory typed as the concrete type that the caller has checked `S` to be.
    @inline(__always)
    private static func rebound<S, T>(_ pointer: UnsafePointer<S>) -> UnsafePointer<T> {
        UnsafeRawPointer(pointer).assumingMemoryBound(to: T.self)
    }
}

/// A SIMD vector type for the row reductions.
///
/// The lane selection is a requirement so that each conformance calls the comparison that the
/// standard library implements with one vector instruction for its concrete type. The generic
/// comparison goes lane by lane through memory, which measured about 50 times slower here.
protocol RowVector: SIMD where Scalar: BinaryFloatingPoint {
    /// `self` with each lane replaced by the lane of `other` where that one is larger.
    func keepingLarger(_ other: Self) -> Self
    /// `self` with each lane replaced by the lane of `other` where that one is smaller.
    func keepingSmaller(_ other: Self) -> Self
}

extension SIMD8: RowVector where Scalar == Float {
    @inline(__always)
    func keepingLarger(_ other: Self) -> Self { replacing(with: other, where: other .> self) }
    @inline(__always)
    func keepingSmaller(_ other: Self) -> Self { replacing(with: other, where: other .< self) }
}

extension SIMD4: RowVector where Scalar == Double {
    @inline(__always)
    func keepingLarger(_ other: Self) -> Self { replacing(with: other, where: other .> self) }
    @inline(__always)
    func keepingSmaller(_ other: Self) -> Self { replacing(with: other, where: other .< self) }
}

/// The row reductions for one SIMD vector type. Only arithmetic and `RowVector` selections run
/// in the loops, because both compile to vector instructions.
enum SIMDRow<Vector: RowVector> {
    typealias Scalar = Vector.Scalar

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Scalar>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func extremum(_ row: UnsafePointer<Scalar>, count: Int, largest: Bool) -> Scalar {
        let width = Vector.scalarCount
        var result = row[0]
        var k = 0
        if count >= width {
            // Comparisons with NaN are false, so a NaN never enters `best`. The probe sums
            // v - v, which is NaN for a NaN and for an infinity. A NaN probe sends the row to
            // the exact scalar loop below.
            var best = load(row)
            var probe = best - best
            k = width
            if largest {
                while k + width <= count {
                    let v = load(row + k)
                    best = best.keepingLarger(v)
                    probe += v - v
                    k += width
                }
                result = best.max()
            } else {
                while k + width <= count {
                    let v = load(row + k)
                    best = best.keepingSmaller(v)
                    probe += v - v
                    k += width
                }
                result = best.min()
            }
            if probe.sum().isNaN {
                result = row[0]
                k = 0
            }
        }
        var sawNaN = false
        while k < count {
            let v = row[k]
            if largest ? v > result : v < result { result = v }
            if v.isNaN { sawNaN = true }
            k += 1
        }
        return sawNaN ? .nan : result
    }

    @inline(__always)
    static func sum(_ row: UnsafePointer<Scalar>, count: Int) -> Scalar {
        let width = Vector.scalarCount
        // Two accumulators hide the latency of the vector addition.
        var first = Vector()
        var second = Vector()
        var k = 0
        while k + 2 * width <= count {
            first += load(row + k)
            second += load(row + k + width)
            k += 2 * width
        }
        if k + width <= count {
            first += load(row + k)
            k += width
        }
        var total = (first + second).sum()
        while k < count {
            total += row[k]
            k += 1
        }
        return total
    }

    // The products below are written as `+= x * y`: the generic `addingProduct` runs lane by
    // lane, while multiply and add compile to vector instructions.

    @inline(__always)
    static func dot(_ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, count: Int) -> Scalar {
        let width = Vector.scalarCount
        var first = Vector()
        var second = Vector()
        var k = 0
        while k + 2 * width <= count {
            first += load(a + k) * load(b + k)
            second += load(a + k + width) * load(b + k + width)
            k += 2 * width
        }
        if k + width <= count {
            first += load(a + k) * load(b + k)
            k += width
        }
        var total = (first + second).sum()
        while k < count {
            total += a[k] * b[k]
            k += 1
        }
        return total
    }

    @inline(__always)
    static func squaredDistance(_ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, count: Int) -> Scalar {
        let width = Vector.scalarCount
        var first = Vector()
        var second = Vector()
        var k = 0
        while k + 2 * width <= count {
            let d0 = load(a + k) - load(b + k)
            let d1 = load(a + k + width) - load(b + k + width)
            first += d0 * d0
            second += d1 * d1
            k += 2 * width
        }
        if k + width <= count {
            let d = load(a + k) - load(b + k)
            first += d * d
            k += width
        }
        var total = (first + second).sum()
        while k < count {
            let d = a[k] - b[k]
            total += d * d
            k += 1
        }
        return total
    }

    @inline(__always)
    static func squaredDeviation(_ row: UnsafePointer<Scalar>, count: Int, center: Scalar) -> Scalar {
        let width = Vector.scalarCount
        let centers = Vector(repeating: center)
        var first = Vector()
        var second = Vector()
        var k = 0
        while k + 2 * width <= count {
            let d0 = load(row + k) - centers
            let d1 = load(row + k + width) - centers
            first += d0 * d0
            second += d1 * d1
            k += 2 * width
        }
        if k + width <= count {
            let d = load(row + k) - centers
            first += d * d
            k += width
        }
        var total = (first + second).sum()
        while k < count {
            let d = row[k] - center
            total += d * d
            k += 1
        }
        return total
    }
}
