import Testing

@testable import TensorEngine

/// `alpha · op(A) · op(B) + beta · C` by the definition, in `Double`.
private func referenceProduct(
    _ a: [Double], _ b: [Double], _ c: [Double], m: Int, n: Int, k: Int,
    transposeA: Bool, transposeB: Bool, alpha: Double, beta: Double
) -> [Double] {
    var result = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let x = transposeA ? a[p * m + i] : a[i * k + p]
                let y = transposeB ? b[j * k + p] : b[p * n + j]
                sum += x * y
            }
            result[i * n + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * n + j])
        }
    }
    return result
}

/// Sizes below the small-product limit of 16·16·16 multiply-adds, and one above it that goes to
/// BLAS. They reach every loop of `SmallMatrixProduct`. Columns run in vectors of 8 with a
/// partial vector left over. Dot products run along k of 8 and more, with and without a scalar
/// remainder, and over column counts that are not multiples of 4. Rows run in vectors of 8 with
/// fewer than 8 columns, and the rest runs as scalar sums.
private let productSizes: [(m: Int, n: Int, k: Int)] = [
    (1, 1, 1), (3, 5, 2), (8, 8, 8), (4, 9, 7), (5, 17, 3), (16, 16, 16), (20, 19, 17),
    (1, 64, 64), (1, 2, 64), (2, 5, 9), (3, 7, 33), (20, 2, 50), (9, 3, 11), (50, 2, 20),
    (17, 1, 5), (64, 2, 1), (1, 63, 8), (11, 4, 15), (20, 50, 2), (7, 9, 8), (7, 3, 9),
]

@Suite("Matrix product")
struct MatrixProductTests {
    @Test("gemm matches the definition", arguments: [false, true], [false, true])
    func gemmMatchesDefinition(transposeA: Bool, transposeB: Bool) {
        var generator = RandomGenerator(seed: 3)
        for (m, n, k) in productSizes {
            let a = (0..<(m * k)).map { _ in generator.nextNormal() }
            let b = (0..<(k * n)).map { _ in generator.nextNormal() }
            let c = (0..<(m * n)).map { _ in generator.nextNormal() }
            for (alpha, beta) in [(1.0, 0.0), (0.5, 2.0)] {
                let expected = referenceProduct(
                    a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                    alpha: alpha, beta: beta)

                var doubleResult = c
                Double.gemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                    alpha: alpha, a: a, lda: transposeA ? m : k, b: b, ldb: transposeB ? k : n,
                    beta: beta, c: &doubleResult, ldc: n)
                var floatResult = c.map { Float($0) }
                Float.gemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                    alpha: Float(alpha), a: a.map { Float($0) }, lda: transposeA ? m : k,
                    b: b.map { Float($0) }, ldb: transposeB ? k : n,
                    beta: Float(beta), c: &floatResult, ldc: n)

                for index in expected.indices {
                    let tolerance = 1e-5 * (1 + Swift.abs(expected[index])) * Double(k)
                    #expect(
                        Swift.abs(doubleResult[index] - expected[index]) <= 1e-12 * Double(k + 1),
                        "Double \(m)x\(n)x\(k), alpha \(alpha), beta \(beta), element \(index)")
                    #expect(
                        Swift.abs(Double(floatResult[index]) - expected[index]) <= tolerance,
                        "Float \(m)x\(n)x\(k), alpha \(alpha), beta \(beta), element \(index)")
                }
            }
        }
    }

    @Test("gemm with padded leading dimensions", arguments: [false, true], [false, true])
    func gemmWithLeadingDimensions(transposeA: Bool, transposeB: Bool) {
        // Every matrix is stored with 3 unused values after each row, which the product must
        // neither read into the result nor overwrite.
        var generator = RandomGenerator(seed: 5)
        let padding = 3
        for (m, n, k) in productSizes {
            let aRows = transposeA ? k : m
            let aColumns = transposeA ? m : k
            let bRows = transposeB ? n : k
            let bColumns = transposeB ? k : n
            let lda = aColumns + padding
            let ldb = bColumns + padding
            let ldc = n + padding
            let a = (0..<(aRows * lda)).map { _ in generator.nextNormal() }
            let b = (0..<(bRows * ldb)).map { _ in generator.nextNormal() }
            let c = (0..<(m * ldc)).map { _ in generator.nextNormal() }
            let packedA = (0..<aRows).flatMap { row in a[(row * lda)..<(row * lda + aColumns)] }
            let packedB = (0..<bRows).flatMap { row in b[(row * ldb)..<(row * ldb + bColumns)] }
            let packedC = (0..<m).flatMap { row in c[(row * ldc)..<(row * ldc + n)] }
            let expected = referenceProduct(
                packedA, packedB, packedC, m: m, n: n, k: k, transposeA: transposeA,
                transposeB: transposeB, alpha: 1.5, beta: -0.5)

            var doubleResult = c
            Double.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1.5,
                a: a, lda: lda, b: b, ldb: ldb, beta: -0.5, c: &doubleResult, ldc: ldc)
            var floatResult = c.map { Float($0) }
            Float.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1.5,
                a: a.map { Float($0) }, lda: lda, b: b.map { Float($0) }, ldb: ldb,
                beta: -0.5, c: &floatResult, ldc: ldc)

            for i in 0..<m {
                for j in 0..<ldc {
                    let index = i * ldc + j
                    if j >= n {
                        #expect(doubleResult[index] == c[index], "Double padding \(m)x\(n)x\(k) at \(i), \(j)")
                        #expect(floatResult[index] == Float(c[index]), "Float padding \(m)x\(n)x\(k) at \(i), \(j)")
                        continue
                    }
                    let value = expected[i * n + j]
                    #expect(
                        Swift.abs(doubleResult[index] - value) <= 1e-12 * Double(k + 1),
                        "Double \(m)x\(n)x\(k) at \(i), \(j)")
                    #expect(
                        Swift.abs(Double(floatResult[index]) - value)
                            <= 1e-5 * (1 + Swift.abs(value)) * Double(k),
                        "Float \(m)x\(n)x\(k) at \(i), \(j)")
                }
            }
        }
    }

    @Test("matmul with batch dimensions matches the definition")
    func matmulBatchMatchesDefinition() {
        var generator = RandomGenerator(seed: 7)
        // (batch of a, batch of b, m, n, k): broadcast batches, a batch against one matrix, and
        // sizes on both sides of the small-product limit.
        let cases: [([Int], [Int], Int, Int, Int)] = [
            ([3], [3], 5, 9, 12), ([2, 1], [1, 3], 1, 64, 64), ([4], [], 20, 2, 50),
            ([], [2], 9, 3, 11), ([2], [2], 30, 40, 20),
        ]
        for (batchA, batchB, m, n, k) in cases {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let a = Tensor<Double>(
                    randomNormal: batchA + (transposeA ? [k, m] : [m, k]), generator: &generator)
                let b = Tensor<Double>(
                    randomNormal: batchB + (transposeB ? [n, k] : [k, n]), generator: &generator)
                let product = matmul(a, b, transposeA: transposeA, transposeB: transposeB)
                let floatProduct = matmul(
                    a.converted(to: Float.self), b.converted(to: Float.self),
                    transposeA: transposeA, transposeB: transposeB)
                let batch = broadcastBatch(batchA, batchB)
                let batchCount = batch.reduce(1, *)
                #expect(product.shape == batch + [m, n])
                #expect(floatProduct.shape == batch + [m, n])
                let aValues = a.scalars
                let bValues = b.scalars
                let values = product.scalars
                let floatValues = floatProduct.scalars
                for item in 0..<batchCount {
                    // Index of this batch item in each operand: batch dimensions of size 1 or
                    // missing ones broadcast.
                    let (aItem, bItem) = broadcastItems(item, batch: batch, batchA: batchA, batchB: batchB)
                    let expected = referenceProduct(
                        Array(aValues[(aItem * m * k)..<((aItem + 1) * m * k)]),
                        Array(bValues[(bItem * k * n)..<((bItem + 1) * k * n)]), [],
                        m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                        alpha: 1, beta: 0)
                    for index in expected.indices {
                        let value = expected[index]
                        let actual = values[item * m * n + index]
                        let actualFloat = Double(floatValues[item * m * n + index])
                        #expect(
                            Swift.abs(actual - value) <= 1e-12 * Double(k + 1),
                            "Double \(batchA)\(batchB) \(m)x\(n)x\(k) item \(item) element \(index)")
                        #expect(
                            Swift.abs(actualFloat - value) <= 1e-5 * (1 + Swift.abs(value)) * Double(k),
                            "Float \(batchA)\(batchB) \(m)x\(n)x\(k) item \(item) element \(index)")
                    }
                }
            }
        }
    }

    @Test("oneDNN and OpenBLAS products match the definition")
    func backendsMatchDefinition() {
        // Sizes above the small-product limit: one that runs in one call, one that is split in
        // two bands of rows (at least 2^22 multiply-adds), narrow ones that stay in
        // `SmallMatrixProduct`, and one with an odd number of rows.
        let sizes: [(m: Int, n: Int, k: Int)] = [
            (64, 64, 64), (257, 130, 130), (600, 2, 64), (600, 64, 2), (33, 17, 40),
        ]
        var generator = RandomGenerator(seed: 11)
        for (m, n, k) in sizes {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let a = (0..<(m * k)).map { _ in generator.nextNormal() }
                let b = (0..<(k * n)).map { _ in generator.nextNormal() }
                let c = (0..<(m * n)).map { _ in generator.nextNormal() }
                let expected = referenceProduct(
                    a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                    alpha: 0.75, beta: 0.5)
                for backend in [MatrixProductBackend.oneDNN, .openBLAS] {
                    var result = c.map { Float($0) }
                    MatrixProductBackend.$override.withValue(backend) {
                        Float.gemm(
                            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                            alpha: 0.75, a: a.map { Float($0) }, lda: transposeA ? m : k,
                            b: b.map { Float($0) }, ldb: transposeB ? k : n,
                            beta: 0.5, c: &result, ldc: n)
                    }
                    var largestError = 0.0
                    for index in expected.indices {
                        let error = Swift.abs(Double(result[index]) - expected[index])
                            / ((1 + Swift.abs(expected[index])) * Double(k))
                        largestError = Swift.max(largestError, error)
                    }
                    #expect(
                        largestError <= 1e-5,
                        "\(backend) \(m)x\(n)x\(k) transposeA \(transposeA) transposeB \(transposeB)")
                }
            }
        }
    }

    @Test("gemm with beta 0 ignores NaN in C")
    func betaZeroIgnoresOutput() {
        let a: [Float] = [1, 2, 3, 4]
        let b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: .nan, count: 4)
        Float.gemm(
            transposeA: false, transposeB: false, m: 2, n: 2, k: 2, alpha: 1, a: a, lda: 2,
            b: b, ldb: 2, beta: 0, c: &c, ldc: 2)
        #expect(c == [19, 22, 43, 50])
    }

    @Test("matmul of rank-2 tensors")
    func matmulValues() {
        let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor<Float>(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        let product = matmul(a, b)
        #expect(product.shape == [2, 2])
        #expect(product.scalars == [58, 64, 139, 154])
        #expect(matmul(a, b, transposeA: true, transposeB: true).scalars == [39, 49, 59, 54, 68, 82, 69, 87, 105])
    }

    @Test("linear adds bias, recorded or not")
    func linearValues() throws {
        let input = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let weight = Tensor<Float>(shape: [2, 3], scalars: [7, 8, 9, 10, 11, 12])
        let bias = Tensor<Float>([0.5, -1])
        // [1 2 3]·[7 8 9] = 50, [1 2 3]·[10 11 12] = 68, [4 5 6]·[7 8 9] = 122, [4 5 6]·[10 11 12] = 167.
        let unrecorded = Tensor.linear(input, weight: weight, bias: bias)
        #expect(unrecorded.shape == [2, 2])
        #expect(unrecorded.scalars == [50.5, 67, 122.5, 166])
        #expect(bias.scalars == [0.5, -1])
        #expect(Tensor.linear(input, weight: weight, bias: nil).scalars == [50, 68, 122, 167])

        let trainableBias = bias.requiringGradient()
        let recorded = Tensor.linear(input, weight: weight, bias: trainableBias)
        #expect(recorded.scalars == [50.5, 67, 122.5, 166])
        recorded.sum().backward()
        // Each bias value is added to both rows.
        #expect(try #require(trainableBias.gradient).scalars == [2, 2])
    }
}

/// Returns the item of each operand that batch item `item` of the broadcast `batch` reads.
private func broadcastItems(
    _ item: Int, batch: [Int], batchA: [Int], batchB: [Int]
) -> (Int, Int) {
    var remainder = item
    var index = [Int](repeating: 0, count: batch.count)
    for d in stride(from: batch.count - 1, through: 0, by: -1) {
        index[d] = remainder % batch[d]
        remainder /= batch[d]
    }
    func flatIndex(_ shape: [Int]) -> Int {
        let offset = batch.count - shape.count
        var flat = 0
        for d in 0..<shape.count {
            flat = flat * shape[d] + (shape[d] == 1 ? 0 : index[offset + d])
        }
        return flat
    }
    return (flatIndex(batchA), flatIndex(batchB))
}

/// Returns the broadcast of two batch shapes, aligned at their last dimensions.
private func broadcastBatch(_ batchA: [Int], _ batchB: [Int]) -> [Int] {
    let rank = max(batchA.count, batchB.count)
    let paddedA = [Int](repeating: 1, count: rank - batchA.count) + batchA
    let paddedB = [Int](repeating: 1, count: rank - batchB.count) + batchB
    return zip(paddedA, paddedB).map { max($0, $1) }
}
