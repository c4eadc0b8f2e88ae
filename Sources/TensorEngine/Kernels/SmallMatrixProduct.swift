/// Matrix products too small for BLAS to pay off, written as plain loops.
///
/// An 8×8 product through `cblas_sgemm` (OpenBLAS 0.3.21) took about 0.3 µs on the 2-core
/// development machine, and these loops about 0.1 µs. Below `maximumMultiplyAdds` multiply-adds
/// the loops are used. Their innermost loop runs along a row of `C` and of `B`, eight columns at
/// a time when `B` is not transposed.
enum SmallMatrixProduct {
    /// Products with at most this many multiply-adds (m·n·k) skip BLAS: 16×16×16.
    static let maximumMultiplyAdds = 4096

    /// `C = alpha · op(A) · op(B) + beta · C` on row-major buffers, with BLAS's conventions:
    /// `op(A)` is m×k, `op(B)` is k×n, and `C` is not read when `beta` is 0.
    @inline(__always)
    static func gemm<S: TensorScalar & SIMDScalar>(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: S, a: UnsafePointer<S>, lda: Int,
        b: UnsafePointer<S>, ldb: Int,
        beta: S, c: UnsafeMutablePointer<S>, ldc: Int
    ) {
        // Strides of op(A) and op(B) along their rows and columns.
        let aRowStride = transposeA ? 1 : lda
        let aColumnStride = transposeA ? lda : 1
        let bRowStride = transposeB ? 1 : ldb
        let bColumnStride = transposeB ? ldb : 1
        for i in 0..<m {
            let aRow = a + i * aRowStride
            let cRow = c + i * ldc
            var j = 0
            if !transposeB {
                // Eight columns of C at a time, accumulated in one vector over k.
                while j + 8 <= n {
                    var sum = SIMD8<S>()
                    for p in 0..<k {
                        let bVector = UnsafeRawPointer(b + p * bRowStride + j)
                            .loadUnaligned(as: SIMD8<S>.self)
                        sum.addProduct(SIMD8(repeating: aRow[p * aColumnStride]), bVector)
                    }
                    var result = sum * alpha
                    if beta != 0 {
                        let old = UnsafeRawPointer(cRow + j).loadUnaligned(as: SIMD8<S>.self)
                        result.addProduct(old, SIMD8(repeating: beta))
                    }
                    UnsafeMutableRawPointer(cRow + j).storeBytes(of: result, as: SIMD8<S>.self)
                    j += 8
                }
            }
            while j < n {
                var sum: S = 0
                for p in 0..<k {
                    sum += aRow[p * aColumnStride] * b[p * bRowStride + j * bColumnStride]
                }
                cRow[j] = beta == 0 ? alpha * sum : alpha * sum + beta * cRow[j]
                j += 1
            }
        }
    }
}
