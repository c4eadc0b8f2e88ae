/// Sums, means and the broadcast/unbroadcast pair that their pullbacks use.
extension Tensor {
    /// Sums over one axis, viewing the tensor as `[outer, size, inner]`.
    static func sumKernel(_ x: Tensor, axis: Int) -> Tensor {
        var shape = x.shape
        let size = shape[axis]
        shape[axis] = 1
        let result = Tensor(zeros: shape)
        var outer = 1
        for i in 0..<axis { outer *= x.shape[i] }
        var inner = 1
        for i in (axis + 1)..<x.rank { inner *= x.shape[i] }
        let source = x.base
        let target = result.base
        if inner == 1 {
            for o in 0..<outer {
                target[o] = VectorReduction.sum(source + o * size, count: size)
            }
        } else {
            for o in 0..<outer {
                let out = target + o * inner
                for k in 0..<size {
                    let row = source + (o * size + k) * inner
                    for i in 0..<inner { out[i] += row[i] }
                }
            }
        }
        return result
    }

    /// Sums over `axes`. With `keepingDimensions`, reduced axes stay with size 1.
    ///
    /// - Precondition: every axis is in `-rank..<rank`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let normalized = Set(axes.map {
            ShapeRules.normalize(axis: $0, rank: rank, shape: shape, operation: "sum(alongAxes:)")
        }).sorted()
        var kept = self
        withoutGradients {
            for axis in normalized { kept = Tensor.sumKernel(kept, axis: axis) }
        }
        if normalized.isEmpty { kept = Tensor(viewOf: self, shape: shape) }
        let keptShape = kept.shape
        let result: Tensor
        if keepingDimensions {
            result = kept
        } else {
            result = Tensor(viewOf: kept, shape: keptShape.enumerated()
                .filter { !normalized.contains($0.offset) }.map { $0.element })
        }
        guard Tensor.shouldRecord(self) else { return result }
        let inputShape = shape
        return result.recorded("sum", [self]) { g in
            [g.reshaped(to: keptShape).broadcasted(to: inputShape)]
        }
    }

    /// Sums over one axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        sum(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Sums every value into a rank-0 tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum() -> Tensor {
        let result = Tensor(uninitializedShape: [])
        result.base[0] = VectorReduction.sum(base, count: scalarCount)
        guard Tensor.shouldRecord(self) else { return result }
        let inputShape = shape
        return result.recorded("sum", [self]) { g in [g.broadcasted(to: inputShape)] }
    }

    /// Mean over `axes`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        var count = 1
        for axis in Set(axes.map {
            ShapeRules.normalize(axis: $0, rank: rank, shape: shape, operation: "mean(alongAxes:)")
        }) {
            count *= shape[axis]
        }
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) / Scalar(count)
    }

    /// Mean over one axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        mean(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Mean of every value, as a rank-0 tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean() -> Tensor {
        sum() / Scalar(Swift.max(1, scalarCount))
    }

    /// Repeats values along stretched dimensions to reach `target`, by broadcasting rules.
    ///
    /// - Precondition: this shape broadcasts to `target`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func broadcasted(to target: [Int]) -> Tensor {
        if target == shape { return self }
        precondition(
            ShapeRules.canBroadcast(shape, to: target),
            "broadcasted(to:): shape \(shape) cannot be broadcast to \(target)")
        let result = Tensor(uninitializedShape: target)
        if scalarCount == 1 {
            result.base.update(repeating: base[0], count: result.scalarCount)
        } else {
            let iterator = BroadcastIterator(
                shape: target, stridesA: ShapeRules.broadcastStrides(shape, to: target),
                stridesB: [Int](repeating: 0, count: target.count))
            iterator.forEachRun { offset, _, outOffset, count, inner, _ in
                let source = base + offset
                let out = result.base + outOffset
                if inner == 1 {
                    out.update(from: source, count: count)
                } else {
                    out.update(repeating: source[0], count: count)
                }
            }
        }
        guard Tensor.shouldRecord(self) else { return result }
        let inputShape = shape
        return result.recorded("broadcast", [self]) { g in [g.summed(toShape: inputShape)] }
    }

    /// Sums over the dimensions that broadcasting to this tensor's shape stretched, giving a
    /// tensor of shape `target`: the pullback of broadcasting.
    ///
    /// - Precondition: `target` broadcasts to this shape.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func summed(toShape target: [Int]) -> Tensor {
        if target == shape { return self }
        precondition(
            ShapeRules.canBroadcast(target, to: shape),
            "summed(toShape:): shape \(target) does not broadcast to \(shape)")
        let leading = rank - target.count
        var axes = Array(0..<leading)
        for i in 0..<target.count where target[i] == 1 && shape[i + leading] != 1 {
            axes.append(i + leading)
        }
        return sum(alongAxes: axes, keepingDimensions: true).reshaped(to: target)
    }
}
