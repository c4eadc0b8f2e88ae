/// Matrix products too small for BLAS to pay off, written as plain loops over SIMD vectors.
///
/// An 8×8 product through `cblas_sgemm` (OpenBLAS 0.3.21) took about 0.3 µs on the 2-core
/// development machine, and these loops about 0.1 µs. Below `maximumMultiplyAdds` multiply-adds
/// the loops are used. Each layout gets the loop order whose innermost loop reads contiguous
/// values:
///
/// - B not transposed, at least 8 columns: rows of `C` as sums of rows of `B`, eight columns at
///   a time (`rowCombinations`).
/// - B transposed, A not transposed: dot products of rows of `A` and rows of `B`, vectorised
///   along k, four columns of `C` at a time (`dotProducts`). `Linear` multiplies by its weight
///   this way, so the layers of a small network run here.
/// - A transposed, B not transposed, fewer than 8 columns: columns of `C` as sums of rows of
///   `A`, eight rows of `C` at a time (`columnCombinations`), as in the weight gradient of a
///   layer with few inputs.
/// - Anything else, or what remains of the vector loops: one scalar sum per value of `C`.
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
        let output = Output(alpha: alpha, beta: beta, c: c, ldc: ldc)
        if transposeB && !transposeA && k >= 8 {
            dotProducts(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, output: output)
        } else if !transposeB && n >= 8 {
            rowCombinations(
                transposeA: transposeA, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                output: output)
        } else if transposeA && !transposeB && m >= 8 {
            columnCombinations(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, output: output)
        } else {
            scalarSums(
                transposeA: transposeA, transposeB: transposeB, rows: 0..<m, columns: 0..<n, k: k,
                a: a, lda: lda, b: b, ldb: ldb, output: output)
        }
    }

    /// The destination `C` with the scaling of BLAS: `C = alpha · product + beta · C`.
    struct Output<S: TensorScalar & SIMDScalar> {
        let alpha: S
        let beta: S
        let c: UnsafeMutablePointer<S>
        let ldc: Int

        /// Stores one value of the product at row `i`, column `j`.
        @inline(__always)
        func store(_ sum: S, row i: Int, column j: Int) {
            let address = c + i * ldc + j
            address.pointee = beta == 0 ? alpha * sum : alpha * sum + beta * address.pointee
        }

        /// Stores eight values of the product at row `i`, columns `j` to `j + 7`.
        @inline(__always)
        func store(_ sums: SIMD8<S>, row i: Int, column j: Int) {
            let address = UnsafeMutableRawPointer(c + i * ldc + j)
            var result = sums * alpha
            if beta != 0 {
                result.addProduct(address.loadUnaligned(as: SIMD8<S>.self), SIMD8(repeating: beta))
            }
            address.storeBytes(of: result, as: SIMD8<S>.self)
        }
    }

    @inline(__always)
    static func load<S: SIMDScalar>(_ pointer: UnsafePointer<S>) -> SIMD8<S> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<S>.self)
    }

    /// `C[i, j] = Σ_p op(A)[i, p] · B[p, j]`, eight columns of a row of `C` per vector; columns
    /// beyond the last multiple of 8 go to `scalarSums`.
    @inline(__always)
    static func rowCombinations<S: TensorScalar & SIMDScalar>(
        transposeA: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int, output: Output<S>
    ) {
        let aRowStride = transposeA ? 1 : lda
        let aColumnStride = transposeA ? lda : 1
        let vectorColumns = n & ~7
        for i in 0..<m {
            let aRow = a + i * aRowStride
            var j = 0
            while j < vectorColumns {
                var sum = SIMD8<S>()
                for p in 0..<k {
                    sum.addProduct(SIMD8(repeating: aRow[p * aColumnStride]), load(b + p * ldb + j))
                }
                output.store(sum, row: i, column: j)
                j += 8
            }
        }
        if vectorColumns < n {
            scalarSums(
                transposeA: transposeA, transposeB: false, rows: 0..<m, columns: vectorColumns..<n,
                k: k, a: a, lda: lda, b: b, ldb: ldb, output: output)
        }
    }

    /// `C[i, j] = Σ_p A[i, p] · B[j, p]`: dot products of rows, which are contiguous along k in
    /// both operands. Four columns of `C` share each load of `A`, and each has its own
    /// accumulator, so four multiply-add chains run at once.
    @inline(__always)
    static func dotProducts<S: TensorScalar & SIMDScalar>(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int, output: Output<S>
    ) {
        let vectorLength = k & ~7
        for i in 0..<m {
            let aRow = a + i * lda
            var j = 0
            while j + 4 <= n {
                let b0 = b + j * ldb
                let b1 = b0 + ldb
                let b2 = b1 + ldb
                let b3 = b2 + ldb
                var sum0 = SIMD8<S>()
                var sum1 = SIMD8<S>()
                var sum2 = SIMD8<S>()
                var sum3 = SIMD8<S>()
                var p = 0
                while p < vectorLength {
                    let aVector = load(aRow + p)
                    sum0.addProduct(aVector, load(b0 + p))
                    sum1.addProduct(aVector, load(b1 + p))
                    sum2.addProduct(aVector, load(b2 + p))
                    sum3.addProduct(aVector, load(b3 + p))
                    p += 8
                }
                var total0 = sum0.sum()
                var total1 = sum1.sum()
                var total2 = sum2.sum()
                var total3 = sum3.sum()
                while p < k {
                    let aValue = aRow[p]
                    total0 += aValue * b0[p]
                    total1 += aValue * b1[p]
                    total2 += aValue * b2[p]
                    total3 += aValue * b3[p]
                    p += 1
                }
                output.store(total0, row: i, column: j)
                output.store(total1, row: i, column: j + 1)
                output.store(total2, row: i, column: j + 2)
                output.store(total3, row: i, column: j + 3)
                j += 4
            }
            while j < n {
                let bRow = b + j * ldb
                var sum = SIMD8<S>()
                var p = 0
                while p < vectorLength {
                    sum.addProduct(load(aRow + p), load(bRow + p))
                    p += 8
                }
                var total = sum.sum()
                while p < k {
                    total += aRow[p] * bRow[p]
                    p += 1
                }
                output.store(total, row: i, column: j)
                j += 1
            }
        }
    }

    /// `C[i, j] = Σ_p A[p, i] · B[p, j]` with `A` stored k×m: each column of `C` is a sum of
    /// rows of `A` weighted by a column of `B`, eight rows of `C` per vector. Rows beyond the last
    /// multiple of 8 go to `scalarSums`.
    @inline(__always)
    static func columnCombinations<S: TensorScalar & SIMDScalar>(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int, output: Output<S>
    ) {
        let vectorRows = m & ~7
        var i = 0
        while i < vectorRows {
            for j in 0..<n {
                var sum = SIMD8<S>()
                for p in 0..<k {
                    sum.addProduct(load(a + p * lda + i), SIMD8(repeating: b[p * ldb + j]))
                }
                for lane in 0..<8 {
                    output.store(sum[lane], row: i + lane, column: j)
                }
            }
            i += 8
        }
        if vectorRows < m {
            scalarSums(
                transposeA: true, transposeB: false, rows: vectorRows..<m, columns: 0..<n, k: k,
                a: a, lda: lda, b: b, ldb: ldb, output: output)
        }
    }

    /// Computes one scalar sum along k per value of `C` in the given rows and columns.
    @inline(__always)
    static func scalarSums<S: TensorScalar & SIMDScalar>(
        transposeA: Bool, transposeB: Bool, rows: Range<Int>, columns: Range<Int>, k: Int,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int, output: Output<S>
    ) {
        // Strides of op(A) and op(B) along their rows and columns.
        let aRowStride = transposeA ? 1 : lda
        let aColumnStride = transposeA ? lda : 1
        let bRowStride = transposeB ? 1 : ldb
        let bColumnStride = transposeB ? ldb : 1
        for i in rows {
            let aRow = a + i * aRowStride
            for j in columns {
                let bColumn = b + j * bColumnStride
                var sum: S = 0
                for p in 0..<k {
                    sum += aRow[p * aColumnStride] * bColumn[p * bRowStride]
                }
                output.store(sum, row: i, column: j)
            }
        }
    }
}
