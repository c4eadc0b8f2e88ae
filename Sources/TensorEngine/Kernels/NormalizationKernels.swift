/// The view of a normalisation's input as `[outer, statisticCount, inner]`, with one mean and
/// variance per middle index, taken over the `outer · inner` values that share it.
///
/// Group normalisation of [N, C, H, W] with G groups is `[1, N · G, C / G · H · W]`. Batch
/// normalisation of [N, C, H, W] over axes 0, 2 and 3 is `[N, C, H · W]`.
struct NormalizationLayout: Equatable, Sendable {
    let outer: Int
    let statisticCount: Int
    let inner: Int

    /// Values behind each statistic.
    var count: Int { outer * inner }
    var viewShape: [Int] { [outer, statisticCount, inner] }
    /// Shape of a per-statistic tensor that broadcasts against `viewShape`.
    var statisticViewShape: [Int] { [1, statisticCount, 1] }
}

/// Fused passes for normalisation: moments, the normalised output, and the input gradient.
///
/// Sums over a run of `inner` values use eight partial sums in the tensor's scalar type, so the
/// loop is not bound by the latency of one addition chain. Runs are then added up in `Double`,
/// which keeps `Float` statistics accurate over large batches.
enum NormalizationKernels {
    @inline(__always)
    static func runSum<S: TensorScalar>(_ x: UnsafePointer<S>, count: Int) -> S {
        var partial: (S, S, S, S, S, S, S, S) = (0, 0, 0, 0, 0, 0, 0, 0)
        var i = 0
        while i + 8 <= count {
            partial.0 += x[i]
            partial.1 += x[i + 1]
            partial.2 += x[i + 2]
            partial.3 += x[i + 3]
            partial.4 += x[i + 4]
            partial.5 += x[i + 5]
            partial.6 += x[i + 6]
            partial.7 += x[i + 7]
            i += 8
        }
        var total = ((partial.0 + partial.1) + (partial.2 + partial.3))
            + ((partial.4 + partial.5) + (partial.6 + partial.7))
        while i < count {
            total += x[i]
            i += 1
        }
        return total
    }

    /// `Σ (x − center)²` over a run.
    @inline(__always)
    static func runSquaredDeviation<S: TensorScalar>(
        _ x: UnsafePointer<S>, count: Int, center: S
    ) -> S {
        var partial: (S, S, S, S, S, S, S, S) = (0, 0, 0, 0, 0, 0, 0, 0)
        var i = 0
        while i + 8 <= count {
            let d0 = x[i] - center
            let d1 = x[i + 1] - center
            let d2 = x[i + 2] - center
            let d3 = x[i + 3] - center
            let d4 = x[i + 4] - center
            let d5 = x[i + 5] - center
            let d6 = x[i + 6] - center
            let d7 = x[i + 7] - center
            partial.0 += d0 * d0
            partial.1 += d1 * d1
            partial.2 += d2 * d2
            partial.3 += d3 * d3
            partial.4 += d4 * d4
            partial.5 += d5 * d5
            partial.6 += d6 * d6
            partial.7 += d7 * d7
            i += 8
        }
        var total = ((partial.0 + partial.1) + (partial.2 + partial.3))
            + ((partial.4 + partial.5) + (partial.6 + partial.7))
        while i < count {
            let d = x[i] - center
            total += d * d
            i += 1
        }
        return total
    }

    /// `Σ x · y` over a run.
    @inline(__always)
    static func runDot<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ y: UnsafePointer<S>, count: Int
    ) -> S {
        var partial: (S, S, S, S, S, S, S, S) = (0, 0, 0, 0, 0, 0, 0, 0)
        var i = 0
        while i + 8 <= count {
            partial.0 += x[i] * y[i]
            partial.1 += x[i + 1] * y[i + 1]
            partial.2 += x[i + 2] * y[i + 2]
            partial.3 += x[i + 3] * y[i + 3]
            partial.4 += x[i + 4] * y[i + 4]
            partial.5 += x[i + 5] * y[i + 5]
            partial.6 += x[i + 6] * y[i + 6]
            partial.7 += x[i + 7] * y[i + 7]
            i += 8
        }
        var total = ((partial.0 + partial.1) + (partial.2 + partial.3))
            + ((partial.4 + partial.5) + (partial.6 + partial.7))
        while i < count {
            total += x[i] * y[i]
            i += 1
        }
        return total
    }

    /// Normalises `x` to zero mean and unit variance per statistic, writing `y`, the means,
    /// the biased variances (divided by `count`) and `1 / sqrt(variance + epsilon)`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func normalize<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ layout: NormalizationLayout, epsilon: S,
        output y: UnsafeMutablePointer<S>, mean: UnsafeMutablePointer<S>,
        variance: UnsafeMutablePointer<S>, inverseDeviation: UnsafeMutablePointer<S>
    ) {
        let statistics = layout.statisticCount
        let inner = layout.inner
        let count = Double(layout.count)
        var totals = [Double](repeating: 0, count: statistics)
        for o in 0..<layout.outer {
            for s in 0..<statistics {
                totals[s] += Double(runSum(x + (o * statistics + s) * inner, count: inner))
            }
        }
        for s in 0..<statistics { mean[s] = S(totals[s] / count) }
        for s in 0..<statistics { totals[s] = 0 }
        for o in 0..<layout.outer {
            for s in 0..<statistics {
                totals[s] += Double(
                    runSquaredDeviation(x + (o * statistics + s) * inner, count: inner, center: mean[s]))
            }
        }
        for s in 0..<statistics {
            let biased = totals[s] / count
            variance[s] = S(biased)
            inverseDeviation[s] = S(1 / (biased + Double(epsilon)).squareRoot())
        }
        for o in 0..<layout.outer {
            for s in 0..<statistics {
                let offset = (o * statistics + s) * inner
                let source = x + offset
                let target = y + offset
                let center = mean[s]
                let scale = inverseDeviation[s]
                for i in 0..<inner { target[i] = (source[i] - center) * scale }
            }
        }
    }

    /// Writes the input gradient of `normalize` for output cotangent `g`, given its output `y`:
    /// `dx = r · (g − mean(g) − y · mean(g · y))` per statistic, where `r` is
    /// `inverseDeviation`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func normalizeGradient<S: TensorScalar>(
        _ g: UnsafePointer<S>, output y: UnsafePointer<S>, _ layout: NormalizationLayout,
        inverseDeviation: UnsafePointer<S>, into dx: UnsafeMutablePointer<S>
    ) {
        let statistics = layout.statisticCount
        let inner = layout.inner
        let count = Double(layout.count)
        var gradientTotals = [Double](repeating: 0, count: statistics)
        var projectionTotals = [Double](repeating: 0, count: statistics)
        for o in 0..<layout.outer {
            for s in 0..<statistics {
                let offset = (o * statistics + s) * inner
                gradientTotals[s] += Double(runSum(g + offset, count: inner))
                projectionTotals[s] += Double(runDot(g + offset, y + offset, count: inner))
            }
        }
        for o in 0..<layout.outer {
            for s in 0..<statistics {
                let offset = (o * statistics + s) * inner
                let gradient = g + offset
                let normalized = y + offset
                let target = dx + offset
                let meanGradient = S(gradientTotals[s] / count)
                let meanProjection = S(projectionTotals[s] / count)
                let scale = inverseDeviation[s]
                for i in 0..<inner {
                    target[i] = scale * (gradient[i] - meanGradient - normalized[i] * meanProjection)
                }
            }
        }
    }
}
