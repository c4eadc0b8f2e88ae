import Foundation
import TensorEngine
import Testing

/// Expects `actual` to match `expected` element by element within `tolerance`.
private func expectClose(
    _ actual: [Double], _ expected: [Double], tolerance: Double = 1e-12,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(actual) vs \(expected)", sourceLocation: sourceLocation)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        #expect(
            Swift.abs(a - e) <= tolerance * Swift.max(1, Swift.abs(e)),
            "element \(index): \(a) vs expected \(e)", sourceLocation: sourceLocation)
    }
}

/// Returns a tensor of shape `shape` containing 0, 1, 2, … in row-major order.
private func iota(_ shape: [Int]) -> Tensor<Double> {
    let count = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: (0..<count).map(Double.init))
}

@Suite("Permutations")
struct PermutationTests {
    @Test("transposed swaps rows and columns")
    func transposeMatrix() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let y = x.transposed()
        #expect(y.shape == [3, 2])
        #expect(y.scalars == [1, 4, 2, 5, 3, 6])
    }

    @Test("transposed acts on each matrix of a batch")
    func transposeBatch() {
        let y = iota([2, 2, 3]).transposed()
        #expect(y.shape == [2, 3, 2])
        #expect(y.scalars == [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11])
    }

    @Test("permuted rank-3 element placement")
    func permuteRank3() {
        // iota([2, 3, 4]) is 12 i + 4 j + k at (i, j, k).
        let y = iota([2, 3, 4]).permuted([2, 0, 1])
        #expect(y.shape == [4, 2, 3])
        let values = y.scalars
        for k in 0..<4 {
            for i in 0..<2 {
                for j in 0..<3 {
                    #expect(values[k * 6 + i * 3 + j] == Double(12 * i + 4 * j + k))
                }
            }
        }
    }

    @Test("large transposes cross tile edges correctly")
    func permuteAcrossTiles() {
        let rows = 37
        let columns = 70
        let x = Tensor<Float>(shape: [rows, columns], scalars: (0..<(rows * columns)).map(Float.init))
        let y = x.transposed().scalars
        var mismatches = 0
        for i in 0..<rows {
            for j in 0..<columns where y[j * rows + i] != Float(i * columns + j) { mismatches += 1 }
        }
        #expect(mismatches == 0)

        // Reversing three axes tiles the outer and inner axes around a middle one.
        let z = iota([3, 40, 35]).permuted([2, 1, 0]).scalars
        var reversedMismatches = 0
        for a in 0..<3 {
            for b in 0..<40 {
                for c in 0..<35 where z[c * 120 + b * 3 + a] != Double(a * 1400 + b * 35 + c) {
                    reversedMismatches += 1
                }
            }
        }
        #expect(reversedMismatches == 0)
    }

    @Test("permuting unit axes keeps order")
    func permuteUnitAxes() {
        let x = Tensor<Double>(shape: [3, 1], scalars: [1, 2, 3]).requiringGradient()
        let y = x.transposed()
        #expect(y.shape == [1, 3])
        #expect(y.scalars == [1, 2, 3])
        y.sum().backward()
        #expect(x.gradient?.scalars == [1, 1, 1])
    }

    @Test("transposed gradient is the transposed cotangent")
    func transposeGradient() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]).requiringGradient()
        let seed = Tensor<Double>(shape: [3, 2], scalars: [10, 20, 30, 40, 50, 60])
        x.transposed().backward(seed: seed)
        #expect(x.gradient?.scalars == [10, 30, 50, 20, 40, 60])
    }
}

@Suite("Joining, splitting and slicing")
struct JoiningTests {
    @Test("concatenated joins along columns and rows")
    func concatenate() {
        let a = Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3, 4])
        let b = Tensor<Double>(shape: [2, 1], scalars: [5, 6])
        let columns = Tensor.concatenated([a, b], alongAxis: 1)
        #expect(columns.shape == [2, 3])
        #expect(columns.scalars == [1, 2, 5, 3, 4, 6])

        let c = Tensor<Double>(shape: [1, 2], scalars: [7, 8])
        let rows = Tensor.concatenated([a, c], alongAxis: -2)
        #expect(rows.shape == [3, 2])
        #expect(rows.scalars == [1, 2, 3, 4, 7, 8])
    }

    @Test("concatenated gradient splits the cotangent")
    func concatenateGradient() {
        let a = Tensor<Double>(zeros: [2, 2]).requiringGradient()
        let b = Tensor<Double>(zeros: [2, 1]).requiringGradient()
        let seed = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        Tensor.concatenated([a, b], alongAxis: 1).backward(seed: seed)
        #expect(a.gradient?.scalars == [1, 2, 4, 5])
        #expect(b.gradient?.scalars == [3, 6])
    }

    @Test("stacked inserts a new axis")
    func stack() {
        let a = Tensor<Double>([1, 2])
        let b = Tensor<Double>([3, 4])
        let first = Tensor.stacked([a, b])
        #expect(first.shape == [2, 2])
        #expect(first.scalars == [1, 2, 3, 4])
        let last = Tensor.stacked([a, b], alongAxis: -1)
        #expect(last.shape == [2, 2])
        #expect(last.scalars == [1, 3, 2, 4])
    }

    @Test("split cuts pieces of the given sizes")
    func split() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let parts = x.split(sizes: [1, 2], alongAxis: 1)
        #expect(parts.count == 2)
        #expect(parts[0].shape == [2, 1])
        #expect(parts[0].scalars == [1, 4])
        #expect(parts[1].shape == [2, 2])
        #expect(parts[1].scalars == [2, 3, 5, 6])

        let thirds = Tensor<Double>([1, 2, 3, 4, 5, 6]).split(count: 3)
        #expect(thirds.map(\.scalars) == [[1, 2], [3, 4], [5, 6]])
    }

    @Test("slice keeps a range and its gradient pads zeros")
    func slice() {
        let x = Tensor<Double>(shape: [2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8]).requiringGradient()
        let y = x.slice(alongAxis: 1, 1..<3)
        #expect(y.shape == [2, 2])
        #expect(y.scalars == [2, 3, 6, 7])
        y.backward(seed: Tensor(shape: [2, 2], scalars: [10, 20, 30, 40]))
        #expect(x.gradient?.scalars == [0, 10, 20, 0, 0, 30, 40, 0])

        let empty = x.slice(alongAxis: 0, 1..<1)
        #expect(empty.shape == [0, 4])
    }

    @Test("padded surrounds values and its gradient crops")
    func pad() {
        let x = Tensor<Double>(shape: [1, 2], scalars: [1, 2]).requiringGradient()
        let y = x.padded(widths: [(1, 0), (0, 2)], value: -1)
        #expect(y.shape == [2, 4])
        #expect(y.scalars == [-1, -1, -1, -1, 1, 2, -1, -1])
        y.backward(seed: Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(x.gradient?.scalars == [5, 6])

        let z = Tensor<Double>([1, 2]).padded(alongAxis: 0, before: 2, after: 1)
        #expect(z.scalars == [0, 0, 1, 2, 0])
    }
}

@Suite("Indexing")
struct IndexingTests {
    @Test("selecting drops the axis, negative index")
    func select() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let row = x.selecting(index: -1)
        #expect(row.shape == [3])
        #expect(row.scalars == [4, 5, 6])
        let column = x.selecting(index: 1, alongAxis: 1)
        #expect(column.shape == [2])
        #expect(column.scalars == [2, 5])
    }

    @Test("gather order and repeated-index gradient")
    func gather() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]).requiringGradient()
        let y = x.gather(indices: [2, 0, 2], alongAxis: 1)
        #expect(y.shape == [2, 3])
        #expect(y.scalars == [3, 1, 3, 6, 4, 6])
        y.sum().backward()
        #expect(x.gradient?.scalars == [1, 0, 2, 1, 0, 2])

        let rows = Tensor<Double>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]).gather(indices: [1, 1])
        #expect(rows.scalars == [3, 4, 3, 4])
    }

    @Test("scatterAdded sums slices into their indices")
    func scatterAdd() {
        let x = Tensor<Double>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        let y = x.scatterAdded(indices: [1, 1, 3], alongAxis: 0, size: 4)
        #expect(y.shape == [4, 2])
        #expect(y.scalars == [0, 0, 4, 6, 0, 0, 5, 6])
    }

    @Test("gather with an index tensor picks per element")
    func gatherElements() {
        // result[i, j] = x[i, indices[i, j]].
        let x = Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3, 4]).requiringGradient()
        let indices = IndexTensor(shape: [2, 2], indices: [0, 0, 1, 0])
        let y = x.gather(indices: indices, alongAxis: 1)
        #expect(y.scalars == [1, 1, 4, 3])
        y.backward(seed: Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        #expect(x.gradient?.scalars == [3, 0, 4, 3])

        // result[i, j] = x[indices[i, j], j], with fewer rows than x.
        let picked = Tensor<Double>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
            .gather(indices: IndexTensor(shape: [1, 2], indices: [2, 0]), alongAxis: 0)
        #expect(picked.shape == [1, 2])
        #expect(picked.scalars == [5, 2])
    }

    @Test("scatterAdded with an index tensor adds per element")
    func scatterAddElements() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let indices = IndexTensor(shape: [2, 3], indices: [0, 3, 3, 1, 0, 2])
        let y = x.scatterAdded(indices: indices, alongAxis: 1, shape: [2, 4])
        #expect(y.scalars == [1, 0, 0, 5, 5, 4, 6, 0])
    }
}

@Suite("Extremal reductions")
struct ExtremalReductionTests {
    @Test("max and min along an axis")
    func maxAndMin() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 3, 2, 0, -1, 5])
        #expect(x.max(alongAxis: 1).scalars == [3, 5])
        #expect(x.min(alongAxis: 1).scalars == [1, -1])
        #expect(x.max(alongAxis: 0).scalars == [1, 3, 5])
        let kept = x.min(alongAxis: 0, keepingDimensions: true)
        #expect(kept.shape == [1, 3])
        #expect(kept.scalars == [0, -1, 2])
        #expect(x.max().shape == [])
        #expect(x.max().scalar == 5)
        #expect(x.min().scalar == -1)
    }

    @Test("max over separated axes")
    func maxSeparatedAxes() {
        // iota([2, 3, 2]) is 6 i + 2 j + k, largest at i = 1, k = 1.
        let y = iota([2, 3, 2]).max(alongAxes: [0, 2])
        #expect(y.shape == [3])
        #expect(y.scalars == [7, 9, 11])
        let kept = iota([2, 3, 2]).min(alongAxes: [2, 0], keepingDimensions: true)
        #expect(kept.shape == [1, 3, 1])
        #expect(kept.scalars == [0, 2, 4])
    }

    @Test("max and min split the gradient evenly among ties")
    func tieGradient() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 3, 3, 2, 0, -1]).requiringGradient()
        x.max(alongAxis: 1).sum().backward()
        #expect(x.gradient?.scalars == [0, 0.5, 0.5, 1, 0, 0])

        let y = Tensor<Double>([2, 1, 1, 1]).requiringGradient()
        y.min().backward()
        expectClose(y.gradient?.scalars ?? [], [0, 1.0 / 3, 1.0 / 3, 1.0 / 3])
    }

    @Test("a NaN makes its slice's maximum NaN")
    func maxPropagatesNaN() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, .nan, 3, 4, 5, 6])
        let y = x.max(alongAxis: 1).scalars
        #expect(y[0].isNaN)
        #expect(y[1] == 6)
        #expect(x.argmax(alongAxis: 1) == [1, 2])
    }

    @Test("argmax and argmin return the first extremum")
    func argExtrema() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [1, 3, 3, -2, 0, -2])
        #expect(x.argmax(alongAxis: 1) == [1, 1])
        #expect(x.argmin(alongAxis: -1) == [0, 0])
        #expect(x.argmax(alongAxis: 0) == [0, 0, 0])
        #expect(x.argmin(alongAxis: 0) == [1, 1, 1])
        #expect(iota([2, 3, 2]).argmax(alongAxis: 1) == [2, 2, 2, 2])
    }

    @Test("logSumExp is stable for large and infinite values")
    func logSumExp() {
        let large = Tensor<Double>([1000, 1000]).logSumExp()
        expectClose([large.scalar], [1000 + Foundation.log(2.0)])
        let floats = Tensor<Float>([1000, 1000]).logSumExp()
        #expect(Swift.abs(floats.scalar - 1000.6931) < 1e-3)

        let x = Tensor<Double>(shape: [2, 2], scalars: [0, Foundation.log(3.0), -.infinity, -.infinity])
        let rows = x.logSumExp(alongAxis: 1).scalars
        expectClose([rows[0]], [Foundation.log(4.0)])
        #expect(rows[1] == -.infinity)
    }

    @Test("logSumExp over separated axes")
    func logSumExpSeparatedAxes() {
        // Each middle index j sums exp over i and k of 6 i + 2 j + k.
        let y = iota([2, 3, 2]).logSumExp(alongAxes: [0, 2], keepingDimensions: true)
        #expect(y.shape == [1, 3, 1])
        let expected = (0..<3).map { j in
            Foundation.log([0.0, 1, 6, 7].map { Foundation.exp($0 + 2 * Double(j)) }.reduce(0, +))
        }
        expectClose(y.scalars, expected)
    }

    @Test("variance divides by the number of elements")
    func variance() {
        expectClose([Tensor<Double>([1, 2, 3, 4]).variance().scalar], [1.25])
        let x = Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3, 6])
        expectClose(x.variance(alongAxis: 0).scalars, [1, 4])
        let kept = x.variance(alongAxis: 1, keepingDimensions: true)
        #expect(kept.shape == [2, 1])
        expectClose(kept.scalars, [0.25, 2.25])
        // Over separated axes of iota([2, 3, 2]): per j the values 2j + {0, 1, 6, 7}.
        expectClose(iota([2, 3, 2]).variance(alongAxes: [0, 2]).scalars, [9.25, 9.25, 9.25])
    }
}

@Suite("Softmax")
struct SoftmaxTests {
    // log(e + e² + e³) = 3 + log(1 + e⁻¹ + e⁻²).
    static let logNormalizer = 3.4076059644443806

    @Test("logSoftmax subtracts the log normaliser")
    func logSoftmax() {
        let y = Tensor<Double>([1, 2, 3]).logSoftmax(alongAxis: 0)
        let n = SoftmaxTests.logNormalizer
        expectClose(y.scalars, [1 - n, 2 - n, 3 - n])
        let shifted = Tensor<Double>([1001, 1002, 1003]).logSoftmax(alongAxis: 0)
        expectClose(shifted.scalars, [1 - n, 2 - n, 3 - n], tolerance: 1e-10)
        let floats = Tensor<Float>([1001, 1002, 1003]).logSoftmax(alongAxis: 0).scalars
        #expect(Swift.abs(Double(floats[2]) - (3 - n)) < 1e-5)
    }

    @Test("softmax normalises along an outer axis")
    func softmaxOuterAxis() {
        let x = Tensor<Double>(shape: [2, 2], scalars: [0, 1, Foundation.log(3.0), 1])
        let y = x.softmax(alongAxis: 0)
        expectClose(y.scalars, [0.25, 0.5, 0.75, 0.5])
        let logY = x.logSoftmax(alongAxis: 0)
        expectClose(logY.scalars, [0.25, 0.5, 0.75, 0.5].map { Foundation.log($0) })
    }

    @Test("logSoftmax gradient by hand")
    func logSoftmaxGradient() {
        let x = Tensor<Double>([0, Foundation.log(3.0)]).requiringGradient()
        x.logSoftmax(alongAxis: 0).backward(seed: Tensor([1, 3]))
        // softmax = [1/4, 3/4], Σ g = 4.
        expectClose(x.gradient?.scalars ?? [], [0, 0])
        let z = Tensor<Double>([0, Foundation.log(3.0)]).requiringGradient()
        z.logSoftmax(alongAxis: 0).backward(seed: Tensor([2, 0]))
        expectClose(z.gradient?.scalars ?? [], [1.5, -1.5])
    }
}

@Suite("Losses")
struct LossTests {
    @Test("cross-entropy of known logits")
    func crossEntropyValue() {
        // Row 0: log(e + e² + e³) - 3. Row 1: log 3.
        let row0 = SoftmaxTests.logNormalizer - 3
        let row1 = Foundation.log(3.0)
        let logits = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 1, 1, 1]).requiringGradient()
        let loss = crossEntropy(logits: logits, labels: [2, 0])
        #expect(loss.shape == [])
        expectClose([loss.scalar], [(row0 + row1) / 2])
        let total = crossEntropy(logits: logits, labels: [2, 0], reduction: .sum)
        expectClose([total.scalar], [row0 + row1])

        // (softmax - onehot) / 2, with softmax of [1, 2, 3] = exp([1, 2, 3] - logNormalizer).
        loss.backward()
        let p = [1.0, 2, 3].map { Foundation.exp($0 - SoftmaxTests.logNormalizer) }
        let expected = [p[0] / 2, p[1] / 2, (p[2] - 1) / 2, (1.0 / 3 - 1) / 2, 1.0 / 6, 1.0 / 6]
        expectClose(logits.gradient?.scalars ?? [], expected)
    }

    @Test("cross-entropy stays finite for large logits in Float")
    func crossEntropyLargeLogits() {
        let logits = Tensor<Float>(shape: [1, 2], scalars: [200, 0])
        let loss = crossEntropy(logits: logits, labels: [1])
        #expect(Swift.abs(loss.scalar - 200) < 1e-3)
    }

    @Test("mean squared error and its gradient")
    func meanSquaredErrorValue() {
        let predictions = Tensor<Double>([1, 2, 3]).requiringGradient()
        let targets = Tensor<Double>([1, 0, 0])
        let loss = meanSquaredError(predictions, targets)
        expectClose([loss.scalar], [13.0 / 3])
        expectClose([meanSquaredError(predictions, targets, reduction: .sum).scalar], [13])
        loss.backward()
        expectClose(predictions.gradient?.scalars ?? [], [0, 4.0 / 3, 2])
    }

    @Test("Gaussian log-density matches the formula")
    func gaussianLogDensityValue() {
        // -(log 2π + 1) / 2 and -(log 2π + log 4 + 1/4) / 2.
        let density = gaussianLogDensity(
            x: Tensor<Double>([1, 2]), mean: Tensor([0, 1]), logVariance: Tensor([0, Foundation.log(4.0)]))
        expectClose(density.scalars, [-1.4189385332046727, -1.7370857137646178])

        // A broadcast mean and log-variance give the same values as spelled-out ones.
        let broadcast = gaussianLogDensity(
            x: Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3, 4]), mean: Tensor(1), logVariance: Tensor([0, 1]))
        let spelled = gaussianLogDensity(
            x: Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3, 4]), mean: Tensor(repeating: 1, shape: [2, 2]),
            logVariance: Tensor(shape: [2, 2], scalars: [0, 1, 0, 1]))
        expectClose(broadcast.scalars, spelled.scalars)
    }

    @Test("Gaussian KL matches the closed form")
    func klDivergenceValue() {
        let zero = Tensor<Double>(0)
        let same = klDivergenceDiagonalGaussians(
            mean1: Tensor([0.3]), logVariance1: Tensor([-0.7]), mean2: Tensor([0.3]), logVariance2: Tensor([-0.7]))
        expectClose(same.scalars, [0])

        // KL(N(1, 1) ‖ N(0, 4)) = (log 4 + (1 + 1) / 4 - 1) / 2.
        let wide = klDivergenceDiagonalGaussians(
            mean1: Tensor(1), logVariance1: zero, mean2: zero, logVariance2: Tensor(Foundation.log(4.0)))
        expectClose([wide.scalar], [0.4431471805599453])

        // Against a standard normal prior: -(1 + log σ² - μ² - σ²) / 2 with μ = 0.5, log σ² = -1.
        let prior = klDivergenceDiagonalGaussians(
            mean1: Tensor([0.5]), logVariance1: Tensor([-1]), mean2: zero, logVariance2: zero)
        expectClose(prior.scalars, [-(1 - 1 - 0.25 - Foundation.exp(-1.0)) / 2])
    }
}

@Suite("Misuse messages")
struct ShapeMisuseTests {
    private static func expectMessage(
        _ result: ExitTest.Result?, contains fragments: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        for fragment in fragments {
            #expect(message.contains(fragment), "missing \"\(fragment)\" in: \(message)", sourceLocation: sourceLocation)
        }
    }

    @Test("permuted rejects a repeated axis")
    func permuteRepeatedAxis() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).permuted([0, 0])
        }
        Self.expectMessage(result, contains: ["permuted(_:)", "[0, 0]", "[2, 3]"])
    }

    @Test("transposed rejects a vector")
    func transposeVector() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [4]).transposed()
        }
        Self.expectMessage(result, contains: ["transposed()", "[4]"])
    }

    @Test("concatenated rejects shapes that differ outside the axis")
    func concatenateMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.concatenated([Tensor(zeros: [2, 3]), Tensor(zeros: [3, 3])], alongAxis: 1)
        }
        Self.expectMessage(result, contains: ["concatenated(_:alongAxis:)", "[2, 3]", "[3, 3]", "dimension 0", "axis 1"])
    }

    @Test("stacked rejects unequal shapes")
    func stackMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.stacked([Tensor(zeros: [2]), Tensor(zeros: [3])])
        }
        Self.expectMessage(result, contains: ["stacked(_:alongAxis:)", "[2]", "[3]"])
    }

    @Test("split rejects sizes with the wrong total")
    func splitWrongTotal() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 5]).split(sizes: [2, 2], alongAxis: 1)
        }
        Self.expectMessage(result, contains: ["split(sizes:alongAxis:)", "[2, 2]", "[2, 5]", "axis 1"])
    }

    @Test("slice rejects a range past the end")
    func sliceOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).slice(alongAxis: 1, 2..<5)
        }
        Self.expectMessage(result, contains: ["slice(alongAxis:_:)", "2..<5", "[2, 3]", "axis 1"])
    }

    @Test("selecting rejects an index past the end")
    func selectOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).selecting(index: -4, alongAxis: 1)
        }
        Self.expectMessage(result, contains: ["selecting(index:alongAxis:)", "index -4", "[2, 3]"])
    }

    @Test("gather rejects an index out of range")
    func gatherOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).gather(indices: [0, 3], alongAxis: 1)
        }
        Self.expectMessage(result, contains: ["gather(indices:alongAxis:)", "index 3", "0..<3", "[2, 3]"])
    }

    @Test("max rejects an axis beyond the rank")
    func maxBadAxis() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>(zeros: [2, 3]).max(alongAxis: 2)
        }
        Self.expectMessage(result, contains: ["max(alongAxis:)", "axis 2", "[2, 3]"])
    }

    @Test("cross-entropy rejects a label out of range")
    func crossEntropyBadLabel() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = crossEntropy(logits: Tensor<Float>(zeros: [2, 3]), labels: [0, 3])
        }
        Self.expectMessage(result, contains: ["crossEntropy(logits:labels:)", "label 3", "position 1", "[2, 3]"])
    }

    @Test("mean squared error rejects different shapes")
    func meanSquaredErrorMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = meanSquaredError(Tensor<Float>(zeros: [3, 1]), Tensor<Float>(zeros: [3]))
        }
        Self.expectMessage(result, contains: ["meanSquaredError(_:_:)", "[3, 1]", "[3]"])
    }
}

@Suite("Kernels against reference loops")
struct KernelReferenceTests {
    /// Row lengths around the SIMD widths (8 Float or 4 Double lanes, two accumulators).
    static let rowLengths = [1, 3, 4, 7, 8, 9, 16, 17, 37, 100]

    /// Returns every permutation of `0..<rank`.
    static func permutations(of rank: Int) -> [[Int]] {
        if rank == 0 { return [[]] }
        return permutations(of: rank - 1).flatMap { shorter in
            (0...shorter.count).map { position in
                var longer = shorter
                longer.insert(rank - 1, at: position)
                return longer
            }
        }
    }

    @Test("permuted matches index arithmetic")
    func permutationsMatchReference() {
        let shapes = [[2, 3, 4, 5], [1, 3, 1, 4], [5, 1, 7], [6, 9], [2, 1, 33, 40], [3, 2, 1, 2]]
        for shape in shapes {
            let x = iota(shape)
            let strides = shape.indices.map { shape[($0 + 1)...].reduce(1, *) }
            for axes in Self.permutations(of: shape.count) {
                let y = x.permuted(axes)
                let newShape = axes.map { shape[$0] }
                #expect(y.shape == newShape)
                let values = y.scalars
                var mismatches = 0
                for flat in 0..<values.count {
                    // Output coordinates, then the source offset they map to.
                    var remainder = flat
                    var offset = 0
                    for d in stride(from: newShape.count - 1, through: 0, by: -1) {
                        let coordinate = remainder % newShape[d]
                        remainder /= newShape[d]
                        offset += coordinate * strides[axes[d]]
                    }
                    if values[flat] != Double(offset) { mismatches += 1 }
                }
                #expect(mismatches == 0, "shape \(shape), axes \(axes)")
            }
        }
    }

    @Test("pad then crop restores tensor")
    func padAndSliceRoundTrip() {
        let x = iota([3, 4, 5])
        let padded = x.padded(widths: [(1, 2), (0, 3), (2, 1)], value: -1)
        #expect(padded.shape == [6, 7, 8])
        // Padding values: the sum counts 6·7·8 − 60 entries of −1 plus Σ 0..<60.
        #expect(padded.sum().scalar == Double(59 * 60 / 2) - Double(6 * 7 * 8 - 60))
        let restored = padded.slice(alongAxis: 0, 1..<4).slice(alongAxis: 1, 0..<4).slice(alongAxis: 2, 2..<7)
        #expect(restored.shape == [3, 4, 5])
        #expect(restored.scalars == x.scalars)
    }

    @Test("row reductions match plain loops", arguments: rowLengths)
    func rowReductions(length: Int) {
        var generator = RandomGenerator(seed: UInt64(length))
        let rows = 3
        let x = Tensor<Double>(randomNormal: [rows, length], generator: &generator)
        let values = x.scalars
        let floats = x.converted(to: Float.self)
        for r in 0..<rows {
            let row = Array(values[(r * length)..<((r + 1) * length)])
            let maximum = row.max()!
            let minimum = row.min()!
            let mean = row.reduce(0, +) / Double(length)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(length)
            let logSumExp = maximum + Foundation.log(row.map { Foundation.exp($0 - maximum) }.reduce(0, +))

            #expect(x.max(alongAxis: 1).scalars[r] == maximum)
            #expect(x.min(alongAxis: 1).scalars[r] == minimum)
            #expect(floats.max(alongAxis: 1).scalars[r] == Float(maximum))
            #expect(x.argmax(alongAxis: 1)[r] == row.firstIndex(of: maximum))
            expectClose([x.variance(alongAxis: 1).scalars[r]], [variance])
            expectClose([x.logSumExp(alongAxis: 1).scalars[r]], [logSumExp])
            expectClose(
                Array(x.logSoftmax(alongAxis: 1).scalars[(r * length)..<((r + 1) * length)]),
                row.map { $0 - logSumExp })
            expectClose(
                Array(x.softmax(alongAxis: 1).scalars[(r * length)..<((r + 1) * length)]),
                row.map { Foundation.exp($0 - logSumExp) })
            let floatLogSumExp = Double(floats.logSumExp(alongAxis: 1).scalars[r])
            #expect(Swift.abs(floatLogSumExp - logSumExp) < 1e-5 * Swift.max(1, Swift.abs(logSumExp)))
        }

        // Cross-entropy of the rows against labels at their last position.
        let labels = [Int](repeating: length - 1, count: rows)
        let expected = (0..<rows).map { r -> Double in
            let row = Array(values[(r * length)..<((r + 1) * length)])
            let maximum = row.max()!
            return maximum + Foundation.log(row.map { Foundation.exp($0 - maximum) }.reduce(0, +)) - row[length - 1]
        }.reduce(0, +) / Double(rows)
        expectClose([crossEntropy(logits: x, labels: labels).scalar], [expected])
    }

    @Test("long rows keep NaN and infinity semantics", arguments: [8, 9, 37])
    func rowSpecialValues(length: Int) {
        var withNaN = (0..<length).map(Double.init)
        withNaN[length / 2] = .nan
        let nanRow = Tensor<Double>(shape: [1, length], scalars: withNaN)
        #expect(nanRow.max(alongAxis: 1).scalar.isNaN)
        #expect(nanRow.min(alongAxis: 1).scalar.isNaN)
        #expect(nanRow.converted(to: Float.self).max(alongAxis: 1).scalar.isNaN)
        #expect(nanRow.logSumExp(alongAxis: 1).scalar.isNaN)

        var withInfinity = (0..<length).map(Double.init)
        withInfinity[length - 1] = .infinity
        withInfinity[0] = -.infinity
        let infiniteRow = Tensor<Double>(shape: [1, length], scalars: withInfinity)
        #expect(infiniteRow.max(alongAxis: 1).scalar == .infinity)
        #expect(infiniteRow.min(alongAxis: 1).scalar == -.infinity)
        #expect(infiniteRow.converted(to: Float.self).min(alongAxis: 1).scalar == -.infinity)
        #expect(infiniteRow.logSumExp(alongAxis: 1).scalar == .infinity)

        // -infinity entries get zero probability and leave the normaliser finite.
        var withNegativeInfinity = [Double](repeating: 0, count: length)
        withNegativeInfinity[1] = -.infinity
        let softmax = Tensor<Double>(shape: [1, length], scalars: withNegativeInfinity).softmax(alongAxis: 1).scalars
        #expect(softmax[1] == 0)
        expectClose([softmax[0]], [1 / Double(length - 1)])
    }
}

@Suite("Losses against formulas")
struct LossReferenceTests {
    @Test("log-density, KL and squared error on long inputs", arguments: [5, 37])
    func longInputs(count: Int) {
        var generator = RandomGenerator(seed: 99)
        let x = Tensor<Double>(randomNormal: [count], generator: &generator)
        let mean = Tensor<Double>(randomNormal: [count], generator: &generator)
        let logVariance = Tensor<Double>(randomNormal: [count], generator: &generator)
        let otherMean = Tensor<Double>(randomNormal: [count], generator: &generator)
        let otherLogVariance = Tensor<Double>(randomNormal: [count], generator: &generator)

        let density = gaussianLogDensity(x: x, mean: mean, logVariance: logVariance).scalars
        let divergence = klDivergenceDiagonalGaussians(
            mean1: mean, logVariance1: logVariance, mean2: otherMean, logVariance2: otherLogVariance
        ).scalars
        let floatDensity = gaussianLogDensity(
            x: x.converted(to: Float.self), mean: mean.converted(to: Float.self),
            logVariance: logVariance.converted(to: Float.self)
        ).scalars
        for i in 0..<count {
            let variance = Foundation.exp(logVariance.scalars[i])
            let residual = x.scalars[i] - mean.scalars[i]
            let expectedDensity = -0.5 * (Foundation.log(2 * Double.pi) + logVariance.scalars[i] + residual * residual / variance)
            expectClose([density[i]], [expectedDensity])
            #expect(Swift.abs(Double(floatDensity[i]) - expectedDensity) < 1e-5 * Swift.max(1, Swift.abs(expectedDensity)))

            let otherVariance = Foundation.exp(otherLogVariance.scalars[i])
            let meanGap = mean.scalars[i] - otherMean.scalars[i]
            let expectedDivergence = 0.5 * (
                Foundation.log(otherVariance / variance) + (variance + meanGap * meanGap) / otherVariance - 1)
            expectClose([divergence[i]], [expectedDivergence], tolerance: 1e-11)
        }

        let squaredError = zip(x.scalars, mean.scalars).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        expectClose([meanSquaredError(x, mean, reduction: .sum).scalar], [squaredError])
        expectClose([meanSquaredError(x, mean).scalar], [squaredError / Double(count)])
        let floatError = meanSquaredError(x.converted(to: Float.self), mean.converted(to: Float.self)).scalar
        #expect(Swift.abs(Double(floatError) - squaredError / Double(count)) < 1e-5 * Swift.max(1, squaredError))
    }
}
