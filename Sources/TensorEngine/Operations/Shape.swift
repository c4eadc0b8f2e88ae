/// Operations that rearrange values without arithmetic.
extension Tensor {
    /// The same values under another shape with the same number of elements. One dimension
    /// may be -1, and is then inferred.
    ///
    /// - Precondition: the element counts agree.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func reshaped(to newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            precondition(
                known > 0 && scalarCount % known == 0 && newShape.filter({ $0 == -1 }).count == 1,
                "reshaped(to:): cannot infer the -1 in \(newShape) for \(scalarCount) values of shape \(shape)")
            resolved[inferred] = scalarCount / known
        }
        if resolved == shape { return self }
        precondition(
            Tensor.checkedCount(resolved) == scalarCount,
            "reshaped(to:): shape \(shape) has \(scalarCount) values, \(newShape) needs \(Tensor.checkedCount(resolved))"
        )
        let result = Tensor(viewOf: self, shape: resolved)
        guard Tensor.shouldRecord(self) else { return result }
        let inputShape = shape
        return result.recorded("reshape", [self]) { g in [g.reshaped(to: inputShape)] }
    }

    /// Flattens every dimension from `startAxis` on into one.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func flattened(from startAxis: Int = 1) -> Tensor {
        let axis = ShapeRules.normalize(axis: startAxis, rank: rank, shape: shape, operation: "flattened(from:)")
        return reshaped(to: Array(shape[..<axis]) + [-1])
    }

    /// Inserts a dimension of size 1 at `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func expandingShape(at axis: Int) -> Tensor {
        let position = ShapeRules.normalize(axis: axis, rank: rank + 1, shape: shape, operation: "expandingShape(at:)")
        var newShape = shape
        newShape.insert(1, at: position)
        return reshaped(to: newShape)
    }

    /// Removes dimensions of size 1 at `axes`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func squeezingShape(at axes: [Int]) -> Tensor {
        let normalized = Set(axes.map {
            ShapeRules.normalize(axis: $0, rank: rank, shape: shape, operation: "squeezingShape(at:)")
        })
        for axis in normalized {
            precondition(shape[axis] == 1, "squeezingShape(at:): axis \(axis) of shape \(shape) has size \(shape[axis]), not 1")
        }
        return reshaped(to: shape.enumerated().filter { !normalized.contains($0.offset) }.map { $0.element })
    }

    /// `Σ coefficients[i] * terms[i]` in one pass over tensors of one shape.
    ///
    /// The stage combinations of Runge–Kutta methods use this, so a step costs one pass per
    /// stage rather than one operation per coefficient.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func linearCombination(_ terms: [Tensor], coefficients: [Scalar]) -> Tensor {
        precondition(
            !terms.isEmpty && terms.count == coefficients.count,
            "linearCombination: \(terms.count) terms but \(coefficients.count) coefficients")
        let shape = terms[0].shape
        for term in terms {
            precondition(term.shape == shape, "linearCombination: shapes \(shape) and \(term.shape) differ")
        }
        let result = Tensor(uninitializedShape: shape)
        let count = result.scalarCount
        let out = result.base
        let first = terms[0].base
        let c0 = coefficients[0]
        for i in 0..<count { out[i] = c0 * first[i] }
        for t in 1..<terms.count {
            let c = coefficients[t]
            if c == 0 { continue }
            let source = terms[t].base
            for i in 0..<count { out[i] += c * source[i] }
        }
        guard shouldRecord(terms) else { return result }
        return result.recorded("linearCombination", terms) { g in
            terms.indices.map { terms[$0].requiresGradient ? g * coefficients[$0] : nil }
        }
    }
}
