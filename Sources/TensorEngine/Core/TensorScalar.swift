import VectorKernels
import COpenBLAS
import Foundation

/// A floating-point type that tensors can hold: `Float` or `Double`.
///
/// Kernels that differ per type (BLAS calls, elementary functions over whole buffers) are
/// requirements here, so an operation dispatches once per call, never once per element.
public protocol TensorScalar: BinaryFloatingPoint, Sendable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {
    /// The dtype name used by the safetensors format (`F32`, `F64`).
    static var safetensorsName: String { get }

    /// General matrix product `C = alpha * op(A) * op(B) + beta * C` on row-major buffers.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// Applies an elementary function to `count` values; `input` and `output` may alias.
    static func apply(
        _ function: ElementaryFunction, _ input: UnsafePointer<Self>,
        _ output: UnsafeMutablePointer<Self>, count: Int)

    /// Adds `offsets[c]` to column `c` of the row-major `rows`×`columns` matrix `values`, then
    /// applies `function` when it is not nil, in place and on the calling thread.
    static func addOffsets(
        _ offsets: UnsafePointer<Self>, thenApply function: ElementaryFunction?,
        to values: UnsafeMutablePointer<Self>, rows: Int, columns: Int)

    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
}

/// Elementary functions that have a whole-buffer kernel per scalar type; defined in
/// `VectorKernels`, whose kernels are compiled for the building machine's CPU.
public typealias ElementaryFunction = VectorKernels.ElementaryFunction

@inline(__always)
private func cblasTranspose(_ flag: Bool) -> CBLAS_TRANSPOSE {
    flag ? CblasTrans : CblasNoTrans
}

extension Float: TensorScalar {
    public static var safetensorsName: String { "F32" }

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // oneDNN takes narrow products from 2¹⁶ multiply-adds on (as in a 2-64-64-2 MLP at batch
        // 4096), OpenBLAS only from 2²² on (see `SmallMatrixProduct.isSuitable`).
        let backend = MatrixProductBackend.current
        let narrowLimit = backend == .oneDNN
            ? SmallMatrixProduct.maximumNarrowOneDNNMultiplyAdds
            : SmallMatrixProduct.maximumNarrowMultiplyAdds
        if SmallMatrixProduct.isSuitable(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, narrowLimit: narrowLimit)
        {
            SmallMatrixProduct.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if backend == .oneDNN {
            MatrixProductBackend.oneDNNProduct(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        cblas_sgemm(
            CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
    }

    public static func apply(
        _ function: ElementaryFunction, _ input: UnsafePointer<Float>,
        _ output: UnsafeMutablePointer<Float>, count: Int
    ) {
        VectorMath.apply(function, input, output, count: count)
    }

    public static func addOffsets(
        _ offsets: UnsafePointer<Float>, thenApply function: ElementaryFunction?,
        to values: UnsafeMutablePointer<Float>, rows: Int, columns: Int
    ) {
        ElementwiseKernels.addOffsets(
            offsets, thenApply: function, to: values, rows: rows, columns: columns)
    }

    public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    public static func log(_ x: Float) -> Float { Foundation.log(x) }
    public static func log1p(_ x: Float) -> Float { Foundation.log1p(x) }
    public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    public static func sin(_ x: Float) -> Float { Foundation.sin(x) }
    public static func cos(_ x: Float) -> Float { Foundation.cos(x) }
    public static func pow(_ x: Float, _ y: Float) -> Float { Foundation.pow(x, y) }
}

extension Double: TensorScalar {
    public static var safetensorsName: String { "F64" }

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        if SmallMatrixProduct.isSuitable(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            narrowLimit: SmallMatrixProduct.maximumNarrowMultiplyAdds)
        {
            SmallMatrixProduct.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        cblas_dgemm(
            CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
    }

    public static func apply(
        _ function: ElementaryFunction, _ input: UnsafePointer<Double>,
        _ output: UnsafeMutablePointer<Double>, count: Int
    ) {
        VectorMath.apply(function, input, output, count: count)
    }

    public static func addOffsets(
        _ offsets: UnsafePointer<Double>, thenApply function: ElementaryFunction?,
        to values: UnsafeMutablePointer<Double>, rows: Int, columns: Int
    ) {
        ElementwiseKernels.addOffsets(
            offsets, thenApply: function, to: values, rows: rows, columns: columns)
    }

    public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    public static func log(_ x: Double) -> Double { Foundation.log(x) }
    public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    public static func sin(_ x: Double) -> Double { Foundation.sin(x) }
    public static func cos(_ x: Double) -> Double { Foundation.cos(x) }
    public static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
}
