import TensorEngine
import Testing

/// The mask that `comparison` should give for one pair, written out case by case.
private func expectedMask(_ u: Double, _ comparison: Comparison, _ v: Double) -> Double {
    switch comparison {
    case .less: return u < v ? 1 : 0
    case .lessOrEqual: return u <= v ? 1 : 0
    case .greater: return u > v ? 1 : 0
    case .greaterOrEqual: return u >= v ? 1 : 0
    case .equal: return u == v ? 1 : 0
    case .notEqual: return u != v ? 1 : 0
    }
}

private let allComparisons: [Comparison] = [
    .less, .lessOrEqual, .greater, .greaterOrEqual, .equal, .notEqual,
]

@Suite("Comparisons")
struct ComparisonTests {
    /// Values with ties, signed zeros and a NaN, so that every comparison has both outcomes.
    let left: [Double] = [-2, -0.0, 0, 1, 1, .nan, 3, -1, 0.5, 7, 2, 2]
    let right: [Double] = [-2, 0, 0.0, 2, 0, 1, .nan, -1, 0.25, 8, 2, 3]

    @Test("same-shape masks match each comparison", arguments: allComparisons)
    func sameShape(comparison: Comparison) {
        let a = Tensor<Double>(shape: [3, 4], scalars: left)
        let b = Tensor<Double>(shape: [3, 4], scalars: right)
        let mask = Tensor.compare(a, comparison, b)
        #expect(mask.shape == [3, 4])
        for i in 0..<left.count {
            #expect(mask.scalars[i] == expectedMask(left[i], comparison, right[i]), "index \(i)")
        }
    }

    @Test("masks against one value match in Float", arguments: allComparisons)
    func againstScalar(comparison: Comparison) {
        let values = left.map(Float.init)
        let a = Tensor<Float>(shape: [2, 6], scalars: values)
        let mask = a.compared(comparison, 1)
        #expect(mask.shape == [2, 6])
        for i in 0..<values.count {
            #expect(Double(mask.scalars[i]) == expectedMask(left[i], comparison, 1), "index \(i)")
        }
    }

    @Test("broadcast masks follow the broadcast indices", arguments: allComparisons)
    func broadcast(comparison: Comparison) {
        // [3, 1] against [1, 4]: element (i, j) compares column[i] with row[j].
        let column: [Double] = [-1, 0, 2]
        let row: [Double] = [0, 2, -1, .nan]
        let mask = Tensor.compare(
            Tensor<Double>(shape: [3, 1], scalars: column), comparison,
            Tensor<Double>(shape: [1, 4], scalars: row))
        #expect(mask.shape == [3, 4])
        for i in 0..<3 {
            for j in 0..<4 {
                let expected = expectedMask(column[i], comparison, row[j])
                #expect(mask.scalars[i * 4 + j] == expected, "element (\(i), \(j))")
            }
        }
    }

    @Test("a scalar on the left broadcasts over the right")
    func scalarOnLeft() {
        let mask = Tensor.compare(Tensor<Float>(1), .less, Tensor<Float>([0, 1, 2, 3]))
        #expect(mask.scalars == [0, 0, 1, 1])
    }

    @Test("relu gradient is the step function")
    func reluGradient() {
        let x = Tensor<Float>(shape: [2, 3], scalars: [-1.5, 0, 2, 3, -0.25, 1e-3])
            .requiringGradient()
        let gradient = gradients(of: x.relu().sum(), withRespectTo: [x])[0]
        #expect(gradient.scalars == [0, 0, 1, 1, 0, 1])
    }
}
