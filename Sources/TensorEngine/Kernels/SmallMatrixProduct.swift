/// Matrix products too small for BLAS to pay off, written as plain loops over SIMD vectors.
///
/// An 8×8 product through `cblas_sgemm` (OpenBLAS 0.3.21) took about 0.3 µs on the 2-core
/// development machine, and these loops about 0.1 µs. Below `maximumMultiplyAdds` multiply-adds
/// the loops are used, and up to `maximumNarrowMultiplyAdds` for narrow products (see
/// `isSuitable`). Each layout gets the loop order whose innermost loop reads contiguous
/// values:
///
/// - B not transposed, at least 8 columns: rows of `C` as sums of rows of `B`, eight columns at
///   a time (`rowCombinations`).
/// - B transposed, A not transposed: dot products of rows of `A` and rows of `B`, vectorised
///   along k, four columns of `C` at a time, or four rows when there are fewer than 4 columns
///   (`dotProducts`). `Linear` multiplies by its weight
///   this way, so the layers of a small network run here.
/// - B transposed with fewer than 8 values along k, or B not transposed with fewer than 8
///   columns and A not transposed: B is first copied to the other layout, then one of the two
///   forms above runs. The copy has at most n·k values, far fewer than the n·k·m multiply-adds.
/// - A transposed, B not transposed, fewer than 8 columns: columns of `C` as sums of rows of
///   `A`, eight rows of `C` at a time (`columnCombinations`), as in the weight gradient of a
///   layer with few inputs.
/// - Anything else, or what remains of the vector loops: one scalar sum per value of `C`.
enum SmallMatrixProduct {
    /// Products with at most this many multiply-adds (m·n·k) skip BLAS: 16×16×16.
    static let maximumMultiplyAdds = 4096
    /// Products with fewer than 8 columns or fewer than 8 values along k skip OpenBLAS up to
    /// this many multiply-adds, when their layout has a vector form.
    static let maximumNarrowMultiplyAdds = 1 << 22
    /// The same limit for oneDNN: above it, oneDNN computes narrow products faster than these
    /// loops on the 2-core development machine (AVX-512).
    static let maximumNarrowOneDNNMultiplyAdds = 1 << 16

    /// Returns true when these loops should compute the product instead of BLAS. That is when
    /// the product is small, or narrow in a layout with a vector form and at most
    /// `narrowLimit` multiply-adds. Narrow means n or k below 8, as in the first and last layers
    /// of a network with few inputs and outputs. OpenBLAS packs its operands into panels for wide
    /// products, which costs more than the product itself when a panel is 1 or 2 values wide,
    /// so its limit is `maximumNarrowMultiplyAdds`. oneDNN's `dnnl_sgemm` does not pack that way:
    /// a [4096, 64] × [64, 2] product took less time there than in these loops, so its limit is
    /// the lower `maximumNarrowOneDNNMultiplyAdds`.
    @inline(__always)
    static func isSuitable(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, narrowLimit: Int
    ) -> Bool {
        let multiplyAdds = m * n * k
        if multiplyAdds <= maximumMultiplyAdds { return true }
        guard multiplyAdds <= narrowLimit && (n < 8 || k < 8) else { return false }
        if transposeA {
            // The row form with B not transposed (n ≥ 8) or copied (k < 8), or the column form.
            return n >= 8 || (!transposeB && m >= 8)
        }
        // The row form, or the dot-product form with B as it is or copied.
        return n >= 8 || k >= 8
    }

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
        } else if transposeB && n >= 8 {
            // Few values along k (as the first layer of a network with 2 inputs): B copied to
            // k×n rows, which the row form reads eight columns at a time.
            withTransposedCopy(b, rows: n, columns: k, ld: ldb) { packed in
                rowCombinations(
                    transposeA: transposeA, m: m, n: n, k: k, a: a, lda: lda, b: packed, ldb: n,
                    output: output)
            }
        } else if !transposeA && k >= 8 {
            // Fewer than 8 columns of B not transposed (as the input gradient of a layer with few
            // inputs): B copied to n×k rows, so that the products become dot products along k.
            withTransposedCopy(b, rows: k, columns: n, ld: ldb) { packed in
                dotProducts(m: m, n: n, k: k, a: a, lda: lda, b: packed, ldb: k, output: output)
            }
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

    /// Calls `body` with a contiguous copy of the transpose of the `rows`×`columns` matrix at
    /// `source` (leading dimension `ld`), which is `columns`×`rows`.
    @inline(__always)
    static func withTransposedCopy<S: TensorScalar & SIMDScalar>(
        _ source: UnsafePointer<S>, rows: Int, columns: Int, ld: Int,
        _ body: (UnsafePointer<S>) -> Void
    ) {
        // n·k values: on the stack when they fit, which the narrow products in `isSuitable` do
        // unless k is in the thousands.
        withUnsafeTemporaryAllocation(of: S.self, capacity: rows * columns) { buffer in
            let packed = buffer.baseAddress!
            for row in 0..<rows {
                for column in 0..<columns {
                    packed[column * rows + row] = source[row * ld + column]
                }
            }
            body(packed)
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
            // 32 columns per pass: four independent multiply-add chains share each value of A.
            while j + 32 <= vectorColumns {
                var sum0 = SIMD8<S>()
                var sum1 = SIMD8<S>()
                var sum2 = SIMD8<S>()
                var sum3 = SIMD8<S>()
                for p in 0..<k {
                    let aValue = SIMD8(repeating: aRow[p * aColumnStride])
                    let bRow = b + p * ldb + j
                    sum0.addProduct(aValue, load(bRow))
                    sum1.addProduct(aValue, load(bRow + 8))
                    sum2.addProduct(aValue, load(bRow + 16))
                    sum3.addProduct(aValue, load(bRow + 24))
                }
                output.store(sum0, row: i, column: j)
                output.store(sum1, row: i, column: j + 8)
                output.store(sum2, row: i, column: j + 16)
                output.store(sum3, row: i, column: j + 24)
                j += 32
            }
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
        var i = 0
        if n < 4 {
            // Too few columns for four at a time (as the output layer of a network with 2
            // outputs): four rows of A share each load of B instead.
            while i + 4 <= m {
                dotProductsOfFourRows(
                    i, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, output: output)
                i += 4
            }
        }
        while i < m {
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
            i += 1
        }
    }

    /// Computes the dot products of rows `i` to `i + 3` of A with every row of B, for
    /// `dotProducts`.
    @inline(__always)
    static func dotProductsOfFourRows<S: TensorScalar & SIMDScalar>(
        _ i: Int, n: Int, k: Int,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int, output: Output<S>
    ) {
        let vectorLength = k & ~7
        let a0 = a + i * lda
        let a1 = a0 + lda
        let a2 = a1 + lda
        let a3 = a2 + lda
        for j in 0..<n {
            let bRow = b + j * ldb
            var sum0 = SIMD8<S>()
            var sum1 = SIMD8<S>()
            var sum2 = SIMD8<S>()
            var sum3 = SIMD8<S>()
            var p = 0
            while p < vectorLength {
                let bVector = load(bRow + p)
                sum0.addProduct(load(a0 + p), bVector)
                sum1.addProduct(load(a1 + p), bVector)
                sum2.addProduct(load(a2 + p), bVector)
                sum3.addProduct(load(a3 + p), bVector)
                p += 8
            }
            var total0 = sum0.sum()
            var total1 = sum1.sum()
            var total2 = sum2.sum()
            var total3 = sum3.sum()
            while p < k {
                let bValue = bRow[p]
                total0 += a0[p] * bValue
                total1 += a1[p] * bValue
                total2 += a2[p] * bValue
                total3 += a3[p] * bValue
                p += 1
            }
            output.store(total0, row: i, column: j)
            output.store(total1, row: i + 1, column: j)
            output.store(total2, row: i + 2, column: j)
            output.store(total3, row: i + 3, column: j)
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
            var j = 0
            // Two columns per pass, so that two multiply-add chains share each load of A.
            while j + 2 <= n {
                var sum0 = SIMD8<S>()
                var sum1 = SIMD8<S>()
                for p in 0..<k {
                    let aVector = load(a + p * lda + i)
                    let bRow = b + p * ldb + j
                    sum0.addProduct(aVector, SIMD8(repeating: bRow[0]))
                    sum1.addProduct(aVector, SIMD8(repeating: bRow[1]))
                }
                for lane in 0..<8 {
                    output.store(sum0[lane], row: i + lane, column: j)
                    output.store(sum1[lane], row: i + lane, column: j + 1)
                }
                j += 2
            }
            if j < n {
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
