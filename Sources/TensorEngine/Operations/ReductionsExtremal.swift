/// Maximum, minimum, arg-max, log-sum-exp and variance over axes.
extension Tensor {
    /// Returns the largest value over `axes`. With `keepingDimensions`, reduced axes stay with
    /// size 1.
    ///
    /// Where several elements tie for the maximum, the gradient is split evenly among them
    /// (as `torch.amax` does), so the gradient of `max` of `[1, 3, 3]` is `[0, 0.5, 0.5]`. A
    /// NaN in a reduced slice makes that slice's maximum NaN.
    ///
    /// - Precondition: every axis is in `-rank..<rank`, and no reduced axis has size 0.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        extremum(largest: true, axes: axes, keepingDimensions: keepingDimensions, operation: "max(alongAxes:)")
    }

    /// Returns the largest value along one axis, as `max(alongAxes:keepingDimensions:)` does.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        extremum(largest: true, axes: [axis], keepingDimensions: keepingDimensions, operation: "max(alongAxis:)")
    }

    /// Returns the largest value of all as a rank-0 tensor. Ties share the gradient evenly.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max() -> Tensor {
        extremum(largest: true, axes: Array(0..<rank), keepingDimensions: false, operation: "max()")
    }

    /// Returns the smallest value over `axes`. Ties share the gradient evenly, as for `max`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func min(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        extremum(largest: false, axes: axes, keepingDimensions: keepingDimensions, operation: "min(alongAxes:)")
    }

    /// Returns the smallest value along one axis. Ties share the gradient evenly, as for `max`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func min(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        extremum(largest: false, axes: [axis], keepingDimensions: keepingDimensions, operation: "min(alongAxis:)")
    }

    /// Returns the smallest value of all as a rank-0 tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func min() -> Tensor {
        extremum(largest: false, axes: Array(0..<rank), keepingDimensions: false, operation: "min()")
    }

    private func extremum(
        largest: Bool, axes: [Int], keepingDimensions: Bool, operation: StaticString
    ) -> Tensor {
        let layout = ReductionLayout(self, axes: axes, operation: operation)
        precondition(
            layout.size > 0 || layout.outer * layout.inner == 0,
            "\(operation): cannot reduce over axes \(axes) of shape \(shape) because they have no elements")
        let kept = Tensor(uninitializedShape: layout.keptShape)
        layout.withInput { input in
            ReductionKernel.extremum(
                input, outer: layout.outer, size: layout.size, inner: layout.inner,
                largest: largest, into: kept.base)
        }
        // A view, not `kept` itself, so the pullback can hold `kept` without a reference cycle.
        let result = Tensor(viewOf: kept, shape: keepingDimensions ? layout.keptShape : layout.reducedShape)
        guard Tensor.shouldRecord(self) else { return result }

        let reducedAxes = layout.axes
        let keptShape = layout.keptShape
        let pullback: (Tensor) -> [Tensor?] = { g in
            // Weights 1/k on the k elements equal to the extremum of their slice, 0 elsewhere.
            let mask = Tensor.compare(self, .equal, kept)
            let ties = mask.sum(alongAxes: reducedAxes, keepingDimensions: true)
            return [g.reshaped(to: keptShape) * (mask / ties)]
        }
        return largest
            ? result.recorded("max", [self], pullback: pullback)
            : result.recorded("min", [self], pullback: pullback)
    }

    /// Returns the index of the largest value along `axis` for each position of the other axes.
    ///
    /// The indices are in row-major order of this shape with `axis` removed. Ties go to the
    /// first index, and a NaN counts as larger than any number. Not differentiable.
    ///
    /// - Precondition: `axis` is in `-rank..<rank` and its size is not 0.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func argmax(alongAxis axis: Int) -> [Int] {
        argExtremum(largest: true, axis: axis, operation: "argmax(alongAxis:)")
    }

    /// Returns the index of the smallest value along `axis`, with the rules of
    /// `argmax(alongAxis:)`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func argmin(alongAxis axis: Int) -> [Int] {
        argExtremum(largest: false, axis: axis, operation: "argmin(alongAxis:)")
    }

    private func argExtremum(largest: Bool, axis: Int, operation: StaticString) -> [Int] {
        let resolved = ShapeRules.normalize(axis: axis, rank: rank, shape: shape, operation: operation)
        let size = shape[resolved]
        let (outer, inner) = IndexKernel.outerAndInner(shape, axis: resolved)
        precondition(
            size > 0 || outer * inner == 0,
            "\(operation): axis \(axis) of shape \(shape) has no elements")
        var indices = [Int](repeating: 0, count: outer * inner)
        if size == 0 { return indices }
        indices.withUnsafeMutableBufferPointer { buffer in
            ReductionKernel.argExtremum(
                base, outer: outer, size: size, inner: inner, largest: largest, into: buffer.baseAddress!)
        }
        return indices
    }

    /// `log Σ exp(x)` over `axes`, computed stably by subtracting the maximum first.
    ///
    /// A slice of only `-infinity` gives `-infinity`, and an empty slice gives `-infinity`.
    /// The gradient is the softmax of each slice.
    ///
    /// - Precondition: every axis is in `-rank..<rank`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func logSumExp(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let layout = ReductionLayout(self, axes: axes, operation: "logSumExp(alongAxes:)")
        let kept = Tensor(uninitializedShape: layout.keptShape)
        layout.withInput { input in
            ReductionKernel.logSumExp(
                input, outer: layout.outer, size: layout.size, inner: layout.inner, into: kept.base)
        }
        let result = Tensor(viewOf: kept, shape: keepingDimensions ? layout.keptShape : layout.reducedShape)
        guard Tensor.shouldRecord(self) else { return result }

        let keptShape = layout.keptShape
        // `result` is alive whenever its own pullback runs, so holding it unowned avoids a cycle.
        return result.recorded("logSumExp", [self]) { [unowned result] g in
            // exp(x - logSumExp(x)) is the softmax. Writing it with the recorded result keeps
            // the dependence of the normaliser on x for second derivatives.
            [g.reshaped(to: keptShape) * (self - result.reshaped(to: keptShape)).exp()]
        }
    }

    /// Returns `log Σ exp(x)` along one axis, as `logSumExp(alongAxes:keepingDimensions:)` does.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func logSumExp(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        logSumExp(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// `log Σ exp(x)` over every value, as a rank-0 tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func logSumExp() -> Tensor {
        logSumExp(alongAxes: Array(0..<rank))
    }

    /// Returns the population variance `mean((x - mean(x))²)` over `axes`. It divides by the
    /// number of elements reduced (not by one less), as batch normalisation does.
    ///
    /// - Precondition: every axis is in `-rank..<rank`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func variance(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let layout = ReductionLayout(self, axes: axes, operation: "variance(alongAxes:)")
        let kept = Tensor(uninitializedShape: layout.keptShape)
        layout.withInput { input in
            ReductionKernel.variance(
                input, outer: layout.outer, size: layout.size, inner: layout.inner, into: kept.base)
        }
        let result = Tensor(viewOf: kept, shape: keepingDimensions ? layout.keptShape : layout.reducedShape)
        guard Tensor.shouldRecord(self) else { return result }

        let reducedAxes = layout.axes
        let keptShape = layout.keptShape
        let scale = 2 / Scalar(layout.size)
        return result.recorded("variance", [self]) { g in
            // d/dx_j of mean((x - μ)²) is 2 (x_j - μ) / n, because the terms through μ sum to 0.
            let centered = self - self.mean(alongAxes: reducedAxes, keepingDimensions: true)
            return [g.reshaped(to: keptShape) * (centered * scale)]
        }
    }

    /// Returns the population variance along one axis, as
    /// `variance(alongAxes:keepingDimensions:)` does.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func variance(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        variance(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Returns the population variance of every value as a rank-0 tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func variance() -> Tensor {
        variance(alongAxes: Array(0..<rank))
    }
}

/// A reduction over some axes arranged as a `[outer, size, inner]` buffer, reducing the middle.
///
/// Consecutive axes are read in place. Other sets of axes are first moved to the end by a
/// permuted copy, so that every kernel handles the single `[outer, size, inner]` case.
struct ReductionLayout<Scalar: TensorScalar> {
    /// The tensor the kernels read: the original, or the permuted copy.
    let input: Tensor<Scalar>
    let outer: Int
    let size: Int
    let inner: Int
    /// The reduced axes, sorted and without repeats.
    let axes: [Int]
    /// The input shape with reduced axes set to 1.
    let keptShape: [Int]
    /// The input shape without the reduced axes.
    let reducedShape: [Int]

    /// Calls `body` with the values of `input`, keeping `input` alive until `body` returns. A
    /// permuted copy is referenced only here, so without this the optimiser may free it as soon
    /// as its pointer has been read.
    func withInput<R>(_ body: (UnsafePointer<Scalar>) -> R) -> R {
        withExtendedLifetime(input) { body(input.base) }
    }

    init(_ tensor: Tensor<Scalar>, axes requested: [Int], operation: StaticString) {
        let shape = tensor.shape
        let rank = tensor.rank
        let axes = Set(requested.map {
            ShapeRules.normalize(axis: $0, rank: rank, shape: shape, operation: operation)
        }).sorted()
        self.axes = axes
        var keptShape = shape
        for axis in axes { keptShape[axis] = 1 }
        self.keptShape = keptShape
        self.reducedShape = (0..<rank).filter { !axes.contains($0) }.map { shape[$0] }

        var size = 1
        for axis in axes { size *= shape[axis] }
        self.size = size
        let consecutive = axes.isEmpty || axes.last! - axes.first! + 1 == axes.count
        if consecutive {
            let first = axes.first ?? rank
            let last = axes.last ?? (rank - 1)
            var outer = 1
            for d in 0..<first { outer *= shape[d] }
            var inner = 1
            for d in (last + 1)..<Swift.max(last + 1, rank) { inner *= shape[d] }
            self.input = tensor
            self.outer = outer
            self.inner = inner
        } else {
            let keptAxes = (0..<rank).filter { !axes.contains($0) }
            self.input = withoutGradients { tensor.permuted(keptAxes + axes) }
            self.outer = tensor.scalarCount / Swift.max(1, size)
            self.inner = 1
        }
    }
}

/// Loops over `[outer, size, inner]` buffers that reduce the middle axis into `[outer, inner]`.
///
/// When `inner` is 1 each slice is a contiguous row, reduced by `RowReduction` on SIMD vectors.
/// Otherwise the loops run across `inner`, where consecutive slices sit side by side.
enum ReductionKernel {
    @inline(__always)
    static func replaces<S: TensorScalar>(_ candidate: S, _ current: S, largest: Bool) -> Bool {
        // A NaN candidate always wins, so a slice with a NaN reduces to NaN.
        (largest ? candidate > current : candidate < current) || candidate.isNaN
    }

    /// Writes the maximum (or minimum) of each slice to `target`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func extremum<S: TensorScalar>(
        _ source: UnsafePointer<S>, outer: Int, size: Int, inner: Int, largest: Bool,
        into target: UnsafeMutablePointer<S>
    ) {
        if size == 0 { return }
        if inner == 1 {
            for o in 0..<outer {
                target[o] = largest
                    ? RowReduction.extremum(source + o * size, count: size, largest: true)
                    : RowReduction.extremum(source + o * size, count: size, largest: false)
            }
            return
        }
        for o in 0..<outer {
            let block = source + o * size * inner
            let out = target + o * inner
            out.update(from: block, count: inner)
            for k in 1..<size {
                let row = block + k * inner
                if largest {
                    for i in 0..<inner where replaces(row[i], out[i], largest: true) { out[i] = row[i] }
                } else {
                    for i in 0..<inner where replaces(row[i], out[i], largest: false) { out[i] = row[i] }
                }
            }
        }
    }

    /// Writes the index of the first maximum (or minimum) of each slice to `target`. A NaN
    /// counts as the extremum.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func argExtremum<S: TensorScalar>(
        _ source: UnsafePointer<S>, outer: Int, size: Int, inner: Int, largest: Bool,
        into target: UnsafeMutablePointer<Int>
    ) {
        if inner == 1 {
            for o in 0..<outer {
                let row = source + o * size
                var best = row[0]
                var index = 0
                for k in 1..<size where !best.isNaN && replaces(row[k], best, largest: largest) {
                    best = row[k]
                    index = k
                }
                target[o] = index
            }
            return
        }

        let best = UnsafeMutablePointer<S>.allocate(capacity: inner)
        defer { best.deallocate() }
        for o in 0..<outer {
            let block = source + o * size * inner
            let out = target + o * inner
            best.update(from: block, count: inner)
            out.update(repeating: 0, count: inner)
            for k in 1..<size {
                let row = block + k * inner
                for i in 0..<inner where !best[i].isNaN && replaces(row[i], best[i], largest: largest) {
                    best[i] = row[i]
                    out[i] = k
                }
            }
        }
    }

    /// Writes `m + log Σ exp(x - m)` of each slice to `target`, with `m` the slice's maximum. A
    /// slice whose maximum is not finite (all `-infinity`, a `+infinity` or a NaN) reduces to
    /// that maximum, and an empty slice to `-infinity`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func logSumExp<S: TensorScalar>(
        _ source: UnsafePointer<S>, outer: Int, size: Int, inner: Int,
        into target: UnsafeMutablePointer<S>
    ) {
        if size == 0 {
            target.update(repeating: -.infinity, count: outer * inner)
            return
        }

        if inner == 1 {
            // Shift every row by its maximum, then take exp of the whole batch in one call of
            // the vector kernel, so short rows do not pay a call each.
            let count = outer * size
            let shifted = UnsafeMutablePointer<S>.allocate(capacity: count)
            defer { shifted.deallocate() }
            for o in 0..<outer {
                let row = source + o * size
                let shiftedRow = shifted + o * size
                let maximum = RowReduction.extremum(row, count: size, largest: true)
                target[o] = maximum
                let shift = maximum.isFinite ? maximum : 0
                for k in 0..<size { shiftedRow[k] = row[k] - shift }
            }
            S.apply(.exp, shifted, shifted, count: count)
            for o in 0..<outer where target[o].isFinite {
                target[o] += S.log(RowReduction.sum(shifted + o * size, count: size))
            }
            return
        }

        let blockCount = size * inner
        let shifted = UnsafeMutablePointer<S>.allocate(capacity: blockCount + inner)
        defer { shifted.deallocate() }
        let sums = shifted + blockCount
        for o in 0..<outer {
            let block = source + o * blockCount
            let out = target + o * inner

            // The maximum of each slice goes to `out` first.
            out.update(from: block, count: inner)
            for k in 1..<size {
                let row = block + k * inner
                for i in 0..<inner where replaces(row[i], out[i], largest: true) { out[i] = row[i] }
            }

            // exp(x - m) over the whole block in one call of the vector kernel, then the sums.
            for k in 0..<size {
                let row = block + k * inner
                let shiftedRow = shifted + k * inner
                for i in 0..<inner {
                    let m = out[i]
                    shiftedRow[i] = row[i] - (m.isFinite ? m : 0)
                }
            }
            S.apply(.exp, shifted, shifted, count: blockCount)
            sums.update(from: shifted, count: inner)
            for k in 1..<size {
                let shiftedRow = shifted + k * inner
                for i in 0..<inner { sums[i] += shiftedRow[i] }
            }
            for i in 0..<inner where out[i].isFinite {
                out[i] += S.log(sums[i])
            }
        }
    }

    /// Writes `Σ (x - mean)² / size` of each slice to `target`, computed in two passes.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func variance<S: TensorScalar>(
        _ source: UnsafePointer<S>, outer: Int, size: Int, inner: Int,
        into target: UnsafeMutablePointer<S>
    ) {
        let scale = 1 / S(size)
        if inner == 1 {
            for o in 0..<outer {
                let row = source + o * size
                let mean = RowReduction.sum(row, count: size) * scale
                target[o] = RowReduction.squaredDeviation(row, count: size, center: mean) * scale
            }
            return
        }

        let means = UnsafeMutablePointer<S>.allocate(capacity: inner)
        defer { means.deallocate() }
        for o in 0..<outer {
            let block = source + o * size * inner
            let out = target + o * inner
            means.update(repeating: 0, count: inner)
            for k in 0..<size {
                let row = block + k * inner
                for i in 0..<inner { means[i] += row[i] }
            }
            for i in 0..<inner { means[i] *= scale }
            out.update(repeating: 0, count: inner)
            for k in 0..<size {
                let row = block + k * inner
                for i in 0..<inner {
                    let d = row[i] - means[i]
                    out[i] += d * d
                }
            }
            for i in 0..<inner { out[i] *= scale }
        }
    }
}
