/// Softmax and log-softmax along one axis, with fused forward and backward kernels.
extension Tensor {
    /// `x - log Σ exp(x)` along `axis`, computed stably by subtracting the maximum first.
    ///
    /// The pullback `g - softmax(x) * Σ g` is itself a recorded primitive, so second
    /// derivatives work.
    ///
    /// - Precondition: `axis` is in `-rank..<rank`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func logSoftmax(alongAxis axis: Int) -> Tensor {
        let resolved = ShapeRules.normalize(
            axis: axis, rank: rank, shape: shape, operation: "logSoftmax(alongAxis:)")
        let (outer, inner) = IndexKernel.outerAndInner(shape, axis: resolved)
        let result = Tensor(uninitializedShape: shape)
        SoftmaxKernel.forward(
            base, outer: outer, size: shape[resolved], inner: inner, logarithmic: true, into: result.base)
        guard Tensor.shouldRecord(self) else { return result }
        // `result` is alive whenever its own pullback runs, so holding it unowned avoids a cycle.
        return result.recorded("logSoftmax", [self]) { [unowned result] g in
            [Tensor.logSoftmaxPullback(output: result, g, axis: resolved)]
        }
    }

    /// `exp(x) / Σ exp(x)` along `axis`, computed stably by subtracting the maximum first.
    ///
    /// The pullback `s * (g - Σ g s)` is itself a recorded primitive, so second derivatives
    /// work.
    ///
    /// - Precondition: `axis` is in `-rank..<rank`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func softmax(alongAxis axis: Int) -> Tensor {
        let resolved = ShapeRules.normalize(
            axis: axis, rank: rank, shape: shape, operation: "softmax(alongAxis:)")
        let (outer, inner) = IndexKernel.outerAndInner(shape, axis: resolved)
        let result = Tensor(uninitializedShape: shape)
        SoftmaxKernel.forward(
            base, outer: outer, size: shape[resolved], inner: inner, logarithmic: false, into: result.base)
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("softmax", [self]) { [unowned result] g in
            [Tensor.softmaxPullback(output: result, g, axis: resolved)]
        }
    }

    /// `g - exp(y) * Σ g` along `axis` in one pass: the pullback of log-softmax given its
    /// output `y`.
    static func logSoftmaxPullback(output y: Tensor, _ g: Tensor, axis: Int) -> Tensor {
        precondition(y.shape == g.shape, "logSoftmax pullback: shapes \(y.shape) and \(g.shape) differ")
        let (outer, inner) = IndexKernel.outerAndInner(y.shape, axis: axis)
        let result = Tensor(uninitializedShape: y.shape)
        SoftmaxKernel.logSoftmaxBackward(
            output: y.base, cotangent: g.base, outer: outer, size: y.shape[axis], inner: inner,
            into: result.base)
        guard shouldRecord(y, g) else { return result }
        return result.recorded("logSoftmax pullback", [y, g]) { h in
            // With s = exp(y) and G = Σ g, the output is g - s G.
            let s = y.exp()
            return [
                y.requiresGradient ? -(h * s * g.sum(alongAxis: axis, keepingDimensions: true)) : nil,
                g.requiresGradient ? h - (h * s).sum(alongAxis: axis, keepingDimensions: true) : nil,
            ]
        }
    }

    /// `s * (g - Σ g s)` along `axis` in one pass: the pullback of softmax given its output `s`.
    static func softmaxPullback(output s: Tensor, _ g: Tensor, axis: Int) -> Tensor {
        precondition(s.shape == g.shape, "softmax pullback: shapes \(s.shape) and \(g.shape) differ")
        let (outer, inner) = IndexKernel.outerAndInner(s.shape, axis: axis)
        let result = Tensor(uninitializedShape: s.shape)
        SoftmaxKernel.softmaxBackward(
            output: s.base, cotangent: g.base, outer: outer, size: s.shape[axis], inner: inner,
            into: result.base)
        guard shouldRecord(s, g) else { return result }
        return result.recorded("softmax pullback", [s, g]) { h in
            // The Jacobian diag(s) - s sᵀ is symmetric, so the cotangent of g is the same map
            // applied to h. The cotangent of s follows from the product rule.
            let weightedH = (h * s).sum(alongAxis: axis, keepingDimensions: true)
            var gradS: Tensor?
            if s.requiresGradient {
                let weightedG = (g * s).sum(alongAxis: axis, keepingDimensions: true)
                gradS = h * (g - weightedG) - g * weightedH
            }
            return [gradS, g.requiresGradient ? s * (h - weightedH) : nil]
        }
    }
}

/// Loops over `[outer, size, inner]` buffers that normalise along the middle axis.
///
/// As in `ReductionKernel`, `inner == 1` (the last axis) takes contiguous rows reduced by
/// `RowReduction`. Otherwise the loops run across `inner`.
enum SoftmaxKernel {
    /// Writes the softmax, or the log-softmax when `logarithmic`, of every slice to `target`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func forward<S: TensorScalar>(
        _ source: UnsafePointer<S>, outer: Int, size: Int, inner: Int, logarithmic: Bool,
        into target: UnsafeMutablePointer<S>
    ) {
        let blockCount = size * inner
        if blockCount == 0 { return }

        if inner == 1 {
            // Shift every row by its maximum, then take exp of the whole batch in one call of
            // the vector kernel, so short rows do not pay a call each.
            let count = outer * size
            let scratch = UnsafeMutablePointer<S>.allocate(capacity: outer + (logarithmic ? count : 0))
            defer { scratch.deallocate() }
            let sums = scratch
            let exponentials = logarithmic ? scratch + outer : target
            for o in 0..<outer {
                let row = source + o * size
                let out = target + o * size
                let maximum = RowReduction.extremum(row, count: size, largest: true)
                for k in 0..<size { out[k] = row[k] - maximum }
            }
            S.apply(.exp, target, exponentials, count: count)
            for o in 0..<outer { sums[o] = RowReduction.sum(exponentials + o * size, count: size) }
            if logarithmic {
                S.apply(.log, sums, sums, count: outer)
                for o in 0..<outer {
                    let out = target + o * size
                    let logSum = sums[o]
                    for k in 0..<size { out[k] -= logSum }
                }
            } else {
                for o in 0..<outer {
                    let out = target + o * size
                    let reciprocal = 1 / sums[o]
                    for k in 0..<size { out[k] *= reciprocal }
                }
            }
            return
        }

        // Column maxima and sums, then (log-softmax only) exp of one block.
        let scratch = UnsafeMutablePointer<S>.allocate(capacity: 2 * inner + (logarithmic ? blockCount : 0))
        defer { scratch.deallocate() }
        let maxima = scratch
        let sums = scratch + inner
        let exponentials = scratch + 2 * inner
        for o in 0..<outer {
            let block = source + o * blockCount
            let out = target + o * blockCount

            maxima.update(from: block, count: inner)
            for k in 1..<size {
                let row = block + k * inner
                for i in 0..<inner where ReductionKernel.replaces(row[i], maxima[i], largest: true) {
                    maxima[i] = row[i]
                }
            }

            // x - max goes to `out`. Its exponentials go to `out` itself for softmax.
            for k in 0..<size {
                let row = block + k * inner
                let shiftedRow = out + k * inner
                for i in 0..<inner { shiftedRow[i] = row[i] - maxima[i] }
            }
            let exponentialBlock = logarithmic ? exponentials : out
            S.apply(.exp, out, exponentialBlock, count: blockCount)
            sums.update(from: exponentialBlock, count: inner)
            for k in 1..<size {
                let row = exponentialBlock + k * inner
                for i in 0..<inner { sums[i] += row[i] }
            }

            if logarithmic {
                for i in 0..<inner { sums[i] = S.log(sums[i]) }
                for k in 0..<size {
                    let row = out + k * inner
                    for i in 0..<inner { row[i] -= sums[i] }
                }
            } else {
                for i in 0..<inner { sums[i] = 1 / sums[i] }
                for k in 0..<size {
                    let row = out + k * inner
                    for i in 0..<inner { row[i] *= sums[i] }
                }
            }
        }
    }

    /// Writes `g - exp(y) * Σ g` of every slice to `target`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func logSoftmaxBackward<S: TensorScalar>(
        output y: UnsafePointer<S>, cotangent g: UnsafePointer<S>, outer: Int, size: Int, inner: Int,
        into target: UnsafeMutablePointer<S>
    ) {
        let blockCount = size * inner
        if blockCount == 0 { return }
        S.apply(.exp, y, target, count: outer * blockCount)

        if inner == 1 {
            for o in 0..<outer {
                let cotangent = g + o * size
                let out = target + o * size
                let total = RowReduction.sum(cotangent, count: size)
                for k in 0..<size { out[k] = cotangent[k] - out[k] * total }
            }
            return
        }

        let sums = UnsafeMutablePointer<S>.allocate(capacity: inner)
        defer { sums.deallocate() }
        for o in 0..<outer {
            let cotangent = g + o * blockCount
            let out = target + o * blockCount
            sums.update(from: cotangent, count: inner)
            for k in 1..<size {
                let row = cotangent + k * inner
                for i in 0..<inner { sums[i] += row[i] }
            }
            for k in 0..<size {
                let row = cotangent + k * inner
                let outRow = out + k * inner
                for i in 0..<inner { outRow[i] = row[i] - outRow[i] * sums[i] }
            }
        }
    }

    /// Writes `s * (g - Σ g s)` of every slice to `target`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func softmaxBackward<S: TensorScalar>(
        output s: UnsafePointer<S>, cotangent g: UnsafePointer<S>, outer: Int, size: Int, inner: Int,
        into target: UnsafeMutablePointer<S>
    ) {
        let blockCount = size * inner
        if blockCount == 0 { return }

        if inner == 1 {
            for o in 0..<outer {
                let probabilities = s + o * size
                let cotangent = g + o * size
                let out = target + o * size
                let weighted = RowReduction.dot(probabilities, cotangent, count: size)
                for k in 0..<size { out[k] = probabilities[k] * (cotangent[k] - weighted) }
            }
            return
        }

        let sums = UnsafeMutablePointer<S>.allocate(capacity: inner)
        defer { sums.deallocate() }
        for o in 0..<outer {
            let probabilities = s + o * blockCount
            let cotangent = g + o * blockCount
            let out = target + o * blockCount
            sums.update(repeating: 0, count: inner)
            for k in 0..<size {
                let p = probabilities + k * inner
                let row = cotangent + k * inner
                for i in 0..<inner { sums[i] += p[i] * row[i] }
            }
            for k in 0..<size {
                let p = probabilities + k * inner
                let row = cotangent + k * inner
                let outRow = out + k * inner
                for i in 0..<inner { outRow[i] = p[i] * (row[i] - sums[i]) }
            }
        }
    }
}
