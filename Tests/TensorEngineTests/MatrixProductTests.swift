import TensorEngine
import Testing

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

/// Sizes below the small-product limit of 16·16·16 multiply-adds, with column counts that
/// need a partial vector, and one above it that goes to BLAS.
private let productSizes: [(m: Int, n: Int, k: Int)] = [
    (1, 1, 1), (3, 5, 2), (8, 8, 8), (4, 9, 7), (5, 17, 3), (16, 16, 16), (20, 19, 17),
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
}
