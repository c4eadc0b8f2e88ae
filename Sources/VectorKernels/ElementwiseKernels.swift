import Foundation

/// Elementary functions that have a whole-buffer kernel per scalar type.
public enum ElementaryFunction: Sendable {
    case exp, log, tanh, sigmoid, softplus, sin, cos, sqrt
}

/// The vector kernels of one scalar type: `FloatVectorMath` or `DoubleVectorMath`.
protocol VectorFunctions {
    associatedtype Scalar: BinaryFloatingPoint & SIMDScalar
    associatedtype Vector: SIMD where Vector.Scalar == Scalar
    static func exp(_ x: Vector) -> Vector
    static func log(_ x: Vector) -> Vector
    static func tanh(_ x: Vector) -> Vector
    static func sigmoid(_ x: Vector) -> Vector
    static func softplus(_ x: Vector) -> Vector
    /// Returns the C library's sine of one value, because sine has no vector kernel.
    static func sine(_ x: Scalar) -> Scalar
    /// Returns the C library's cosine of one value, because cosine has no vector kernel.
    static func cosine(_ x: Scalar) -> Scalar
}

extension FloatVectorMath: VectorFunctions {
    typealias Scalar = Float
    static func sine(_ x: Float) -> Float { Foundation.sin(x) }
    static func cosine(_ x: Float) -> Float { Foundation.cos(x) }
}

extension DoubleVectorMath: VectorFunctions {
    typealias Scalar = Double
    static func sine(_ x: Double) -> Double { Foundation.sin(x) }
    static func cosine(_ x: Double) -> Double { Foundation.cos(x) }
}

/// Whole-buffer elementary functions on the calling thread, one entry point per scalar type.
///
/// This module is compiled for the CPU of the machine that builds it (see Package.swift), so
/// that its vectors of 16 `Float` or 8 `Double` lanes fill one AVX-512 register where the CPU
/// has them. exp, log, tanh, sigmoid, softplus and sqrt run on SIMD vectors;
/// `FloatVectorMath` and `DoubleVectorMath` state the methods and their measured accuracy. sin
/// and cos call the C library one value at a time. The callers in `TensorEngine` decide about
/// threads.
public enum ElementwiseKernels {
    /// Sets `y[i] = function(x[i])` for `i` in `0..<count`. `x` and `y` may be the same buffer.
    public static func apply(
        _ function: ElementaryFunction, _ x: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        apply(FloatVectorMath.self, function, x, y, count: count)
    }

    /// Sets `y[i] = function(x[i])` for `i` in `0..<count`. `x` and `y` may be the same buffer.
    public static func apply(
        _ function: ElementaryFunction, _ x: UnsafePointer<Double>,
        _ y: UnsafeMutablePointer<Double>, count: Int
    ) {
        apply(DoubleVectorMath.self, function, x, y, count: count)
    }

    /// Adds `offsets[c]` to every value in column `c` of the row-major `rows`×`columns` matrix
    /// `values`, then applies `function` when it is not nil, in place: the bias and activation
    /// of a linear layer in one pass over its output.
    public static func addOffsets(
        _ offsets: UnsafePointer<Float>, thenApply function: ElementaryFunction?,
        to values: UnsafeMutablePointer<Float>, rows: Int, columns: Int
    ) {
        addOffsets(
            FloatVectorMath.self, offsets, thenApply: function, to: values, rows: rows,
            columns: columns)
    }

    /// Adds `offsets[c]` to every value in column `c` of the row-major `rows`×`columns` matrix
    /// `values`, then applies `function` when it is not nil, in place: the bias and activation
    /// of a linear layer in one pass over its output.
    public static func addOffsets(
        _ offsets: UnsafePointer<Double>, thenApply function: ElementaryFunction?,
        to values: UnsafeMutablePointer<Double>, rows: Int, columns: Int
    ) {
        addOffsets(
            DoubleVectorMath.self, offsets, thenApply: function, to: values, rows: rows,
            columns: columns)
    }

    /// Applies `function` with the kernels of one scalar type. Each case names its kernel
    /// directly, so that the kernel is inlined into the loop instead of called once per vector.
    @inline(__always)
    static func apply<Kernels: VectorFunctions>(
        _: Kernels.Type, _ function: ElementaryFunction, _ x: UnsafePointer<Kernels.Scalar>,
        _ y: UnsafeMutablePointer<Kernels.Scalar>, count: Int
    ) {
        switch function {
        case .exp: mapVectors(x, y, count: count, Kernels.exp)
        case .log: mapVectors(x, y, count: count, Kernels.log)
        case .tanh: mapVectors(x, y, count: count, Kernels.tanh)
        case .sigmoid: mapVectors(x, y, count: count, Kernels.sigmoid)
        case .softplus: mapVectors(x, y, count: count, Kernels.softplus)
        case .sqrt: mapVectors(x, y, count: count) { (v: Kernels.Vector) in v.squareRoot() }
        case .sin: for i in 0..<count { y[i] = Kernels.sine(x[i]) }
        case .cos: for i in 0..<count { y[i] = Kernels.cosine(x[i]) }
        }
    }

    /// Adds the offsets and applies `function` with the kernels of one scalar type.
    @inline(__always)
    static func addOffsets<Kernels: VectorFunctions>(
        _: Kernels.Type, _ offsets: UnsafePointer<Kernels.Scalar>,
        thenApply function: ElementaryFunction?, to values: UnsafeMutablePointer<Kernels.Scalar>,
        rows: Int, columns: Int
    ) {
        switch function {
        case nil: addOffsets(offsets, to: values, rows: rows, columns: columns)
        case .exp: addOffsets(offsets, to: values, rows: rows, columns: columns, Kernels.exp)
        case .log: addOffsets(offsets, to: values, rows: rows, columns: columns, Kernels.log)
        case .tanh: addOffsets(offsets, to: values, rows: rows, columns: columns, Kernels.tanh)
        case .sigmoid: addOffsets(offsets, to: values, rows: rows, columns: columns, Kernels.sigmoid)
        case .softplus: addOffsets(offsets, to: values, rows: rows, columns: columns, Kernels.softplus)
        case .sqrt, .sin, .cos:
            addOffsets(offsets, to: values, rows: rows, columns: columns)
            apply(Kernels.self, function!, values, values, count: rows * columns)
        }
    }

    /// Applies `kernel` to `count` values, one vector at a time. The last partial vector is
    /// padded with ones, and `x` and `y` may be the same buffer.
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

    /// Sets `values[r, c] = kernel(values[r, c] + offsets[c])`, vector by vector along each row.
    /// The last partial vector of a row is padded with ones. The kernel has one call site, so
    /// inlining it once is enough.
    @inline(__always)
    static func addOffsets<V: SIMD>(
        _ offsets: UnsafePointer<V.Scalar>, to values: UnsafeMutablePointer<V.Scalar>,
        rows: Int, columns: Int, _ kernel: (V) -> V
    ) where V.Scalar: BinaryFloatingPoint {
        let width = V.scalarCount
        for row in 0..<rows {
            let line = values + row * columns
            var column = 0
            while column < columns {
                let lanes = min(width, columns - column)
                var sum = V(repeating: 1)
                if lanes == width {
                    sum = UnsafeRawPointer(line + column).loadUnaligned(as: V.self)
                        + UnsafeRawPointer(offsets + column).loadUnaligned(as: V.self)
                } else {
                    for lane in 0..<lanes { sum[lane] = line[column + lane] + offsets[column + lane] }
                }
                let result = kernel(sum)
                if lanes == width {
                    UnsafeMutableRawPointer(line + column).storeBytes(of: result, as: V.self)
                } else {
                    for lane in 0..<lanes { line[column + lane] = result[lane] }
                }
                column += width
            }
        }
    }

    /// Adds `offsets[c]` to every value in column `c` of `values`.
    @inline(__always)
    static func addOffsets<Scalar: BinaryFloatingPoint>(
        _ offsets: UnsafePointer<Scalar>, to values: UnsafeMutablePointer<Scalar>,
        rows: Int, columns: Int
    ) {
        for row in 0..<rows {
            let line = values + row * columns
            for column in 0..<columns { line[column] += offsets[column] }
        }
    }
}
