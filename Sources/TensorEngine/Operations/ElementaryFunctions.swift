/// Unary elementwise operations and their pullbacks.
extension Tensor {
    /// Applies a whole-buffer kernel to produce a new tensor of the same shape.
    @inline(__always)
    func mapped(_ function: ElementaryFunction) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        Scalar.apply(function, base, result.base, count: scalarCount)
        return result
    }

    @inline(__always)
    func mapped(_ transform: (Scalar) -> Scalar) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        let source = base
        let target = result.base
        for i in 0..<scalarCount { target[i] = transform(source[i]) }
        return result
    }

    /// `scale * self + shift`, elementwise. The building block of arithmetic with scalars.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func affine(scale: Scalar, shift: Scalar) -> Tensor {
        let result = mapped { scale * $0 + shift }
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("affine", [self]) { g in [g.affine(scale: scale, shift: 0)] }
    }

    /// `1 / self`, elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func reciprocal() -> Tensor {
        let result = mapped { 1 / $0 }
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("reciprocal", [self]) { [unowned result] g in
            [-(g * result * result)]
        }
    }

    /// `self` raised to a constant power, elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pow(_ exponent: Scalar) -> Tensor {
        let result: Tensor
        if exponent == 2 {
            result = mapped { $0 * $0 }
        } else if exponent == 1 {
            result = mapped { $0 }
        } else {
            result = mapped { Scalar.pow($0, exponent) }
        }
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("pow", [self]) { g in
            [g * self.pow(exponent - 1) * exponent]
        }
    }

    /// `self * self`, elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func squared() -> Tensor {
        let result = mapped { $0 * $0 }
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("square", [self]) { g in [g * self * 2] }
    }

    /// Square root, elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sqrt() -> Tensor {
        let result = mapped(.sqrt)
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("sqrt", [self]) { [unowned result] g in [g / (result * 2)] }
    }

    /// Absolute value, elementwise; the gradient at 0 is 0.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func abs() -> Tensor {
        let result = mapped { Swift.abs($0) }
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("abs", [self]) { g in [g * self.sign()] }
    }

    /// -1, 0 or 1 by the sign of each value; constant, so it records nothing.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sign() -> Tensor {
        mapped { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
    }

    /// Natural exponential, elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func exp() -> Tensor {
        let result = mapped(.exp)
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("exp", [self]) { [unowned result] g in [g * result] }
    }

    /// Natural logarithm, elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func log() -> Tensor {
        let result = mapped(.log)
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("log", [self]) { g in [g / self] }
    }

    /// Hyperbolic tangent, elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func tanh() -> Tensor {
        let result = mapped(.tanh)
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("tanh", [self]) { [unowned result] g in
            [Tensor.tanhPullback(output: result, g)]
        }
    }

    /// `g * (1 - y²)` in one pass: the pullback of tanh given its output `y`.
    static func tanhPullback(output y: Tensor, _ g: Tensor) -> Tensor {
        precondition(y.shape == g.shape, "tanh pullback: shapes \(y.shape) and \(g.shape) differ")
        let result = Tensor(uninitializedShape: y.shape)
        let yb = y.base
        let gb = g.base
        let out = result.base
        for i in 0..<result.scalarCount { out[i] = gb[i] * (1 - yb[i] * yb[i]) }
        guard shouldRecord(y, g) else { return result }
        return result.recorded("tanh pullback", [y, g]) { h in
            [
                y.requiresGradient ? h * g * y * -2 : nil,
                g.requiresGradient ? h * (1 - y.squared()) : nil,
            ]
        }
    }

    /// Logistic sigmoid `1 / (1 + e^-x)`, elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sigmoid() -> Tensor {
        let result = mapped(.sigmoid)
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("sigmoid", [self]) { [unowned result] g in
            [g * result * (1 - result)]
        }
    }

    /// `log(1 + e^x)`, elementwise, computed without overflow.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func softplus() -> Tensor {
        let result = mapped(.softplus)
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("softplus", [self]) { g in [g * self.sigmoid()] }
    }

    /// `max(x, 0)`, elementwise; the gradient at 0 is 0.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func relu() -> Tensor {
        let result = mapped { Swift.max($0, 0) }
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("relu", [self]) { g in [g * self.compared(.greater, 0)] }
    }

    /// Sine, elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sin() -> Tensor {
        let result = mapped(.sin)
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("sin", [self]) { g in [g * self.cos()] }
    }

    /// Cosine, elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func cos() -> Tensor {
        let result = mapped(.cos)
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("cos", [self]) { g in [-(g * self.sin())] }
    }

    /// Limits every value to `[lower, upper]`; the gradient is 0 where a limit applies.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func clamped(lower: Scalar = -.infinity, upper: Scalar = .infinity) -> Tensor {
        precondition(lower <= upper, "clamped: lower bound \(lower) exceeds upper bound \(upper)")
        let result = mapped { Swift.min(Swift.max($0, lower), upper) }
        guard Tensor.shouldRecord(self) else { return result }
        return result.recorded("clamp", [self]) { g in
            let inside = self.mapped { $0 >= lower && $0 <= upper ? 1 : 0 }
            return [g * inside]
        }
    }
}
