/// Binary elementwise operations with broadcasting, and their pullbacks.
enum BinaryOperation {
    case add, subtract, multiply, divide, power, maximum, minimum
}

extension Tensor {
    /// Applies a binary operation elementwise, broadcasting the operands.
    static func elementwise(
        _ operation: BinaryOperation, _ a: Tensor, _ b: Tensor, name: StaticString
    ) -> Tensor {
        let shape = ShapeRules.broadcast(a.shape, b.shape, operation: name)
        let result = Tensor(uninitializedShape: shape)
        BinaryKernel.run(operation, a, b, into: result)
        return result
    }
}

enum BinaryKernel {
    @inline(__always)
    static func combine<S: TensorScalar>(_ operation: BinaryOperation, _ x: S, _ y: S) -> S {
        switch operation {
        case .add: return x + y
        case .subtract: return x - y
        case .multiply: return x * y
        case .divide: return x / y
        case .power: return S.pow(x, y)
        case .maximum: return Swift.max(x, y)
        case .minimum: return Swift.min(x, y)
        }
    }

    @inline(__always)
    static func loop<S: TensorScalar>(
        _ a: UnsafePointer<S>, _ strideA: Int, _ b: UnsafePointer<S>, _ strideB: Int,
        _ out: UnsafeMutablePointer<S>, _ count: Int, _ op: (S, S) -> S
    ) {
        // Separate loops for each stride pattern, so each one vectorises.
        if strideA == 1 && strideB == 1 {
            for i in 0..<count { out[i] = op(a[i], b[i]) }
        } else if strideA == 1 {
            let y = b[0]
            for i in 0..<count { out[i] = op(a[i], y) }
        } else if strideB == 1 {
            let x = a[0]
            for i in 0..<count { out[i] = op(x, b[i]) }
        } else {
            let value = op(a[0], b[0])
            for i in 0..<count { out[i] = value }
        }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func run<S: TensorScalar>(
        _ operation: BinaryOperation, _ a: Tensor<S>, _ b: Tensor<S>, into out: Tensor<S>
    ) {
        if a.shape == b.shape || (a.scalarCount == out.scalarCount && b.scalarCount == out.scalarCount) {
            dispatch(operation, a.base, 1, b.base, 1, out.base, out.scalarCount)
            return
        }
        if b.scalarCount == 1 && a.scalarCount == out.scalarCount {
            dispatch(operation, a.base, 1, b.base, 0, out.base, out.scalarCount)
            return
        }
        if a.scalarCount == 1 && b.scalarCount == out.scalarCount {
            dispatch(operation, a.base, 0, b.base, 1, out.base, out.scalarCount)
            return
        }
        // A bias-like operand whose shape is the trailing dimensions of the result (as [64]
        // against [512, 64]) repeats whole rows: one contiguous loop per row.
        if a.scalarCount == out.scalarCount && isTrailingBlock(b.shape, of: out.shape) {
            let rowLength = b.scalarCount
            for row in 0..<(out.scalarCount / Swift.max(1, rowLength)) {
                let offset = row * rowLength
                dispatch(operation, a.base + offset, 1, b.base, 1, out.base + offset, rowLength)
            }
            return
        }
        if b.scalarCount == out.scalarCount && isTrailingBlock(a.shape, of: out.shape) {
            let rowLength = a.scalarCount
            for row in 0..<(out.scalarCount / Swift.max(1, rowLength)) {
                let offset = row * rowLength
                dispatch(operation, a.base, 1, b.base + offset, 1, out.base + offset, rowLength)
            }
            return
        }
        let iterator = BroadcastIterator(
            shape: out.shape,
            stridesA: ShapeRules.broadcastStrides(a.shape, to: out.shape),
            stridesB: ShapeRules.broadcastStrides(b.shape, to: out.shape))
        iterator.forEachRun { offsetA, offsetB, offsetOut, count, innerA, innerB in
            dispatch(
                operation, a.base + offsetA, innerA, b.base + offsetB, innerB,
                out.base + offsetOut, count)
        }
    }

    /// True when `shape`, without leading 1s, equals the trailing dimensions of `target`, so
    /// that broadcasting repeats it as whole contiguous blocks.
    static func isTrailingBlock(_ shape: [Int], of target: [Int]) -> Bool {
        var first = 0
        while first < shape.count && shape[first] == 1 { first += 1 }
        let length = shape.count - first
        guard length > 0 && length <= target.count else { return false }
        let offset = target.count - length
        for i in 0..<length where shape[first + i] != target[offset + i] { return false }
        return true
    }

    @inline(__always)
    static func dispatch<S: TensorScalar>(
        _ operation: BinaryOperation, _ a: UnsafePointer<S>, _ strideA: Int,
        _ b: UnsafePointer<S>, _ strideB: Int, _ out: UnsafeMutablePointer<S>, _ count: Int
    ) {
        switch operation {
        case .add: loop(a, strideA, b, strideB, out, count) { $0 + $1 }
        case .subtract: loop(a, strideA, b, strideB, out, count) { $0 - $1 }
        case .multiply: loop(a, strideA, b, strideB, out, count) { $0 * $1 }
        case .divide: loop(a, strideA, b, strideB, out, count) { $0 / $1 }
        case .power: loop(a, strideA, b, strideB, out, count) { S.pow($0, $1) }
        case .maximum: loop(a, strideA, b, strideB, out, count) { Swift.max($0, $1) }
        case .minimum: loop(a, strideA, b, strideB, out, count) { Swift.min($0, $1) }
        }
    }
}

// MARK: - Public arithmetic

extension Tensor {
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let result = elementwise(.add, a, b, name: "add")
        guard shouldRecord(a, b) else { return result }
        return result.recorded("add", [a, b]) { g in
            [g.summed(toShape: a.shape), g.summed(toShape: b.shape)]
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let result = elementwise(.subtract, a, b, name: "subtract")
        guard shouldRecord(a, b) else { return result }
        return result.recorded("subtract", [a, b]) { g in
            [g.summed(toShape: a.shape), (-g).summed(toShape: b.shape)]
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let result = elementwise(.multiply, a, b, name: "multiply")
        guard shouldRecord(a, b) else { return result }
        return result.recorded("multiply", [a, b]) { g in
            [
                a.requiresGradient ? (g * b).summed(toShape: a.shape) : nil,
                b.requiresGradient ? (g * a).summed(toShape: b.shape) : nil,
            ]
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let result = elementwise(.divide, a, b, name: "divide")
        guard shouldRecord(a, b) else { return result }
        return result.recorded("divide", [a, b]) { g in
            [
                a.requiresGradient ? (g / b).summed(toShape: a.shape) : nil,
                b.requiresGradient ? (-(g * a) / (b * b)).summed(toShape: b.shape) : nil,
            ]
        }
    }

    /// Elementwise `a` raised to `b`, broadcasting. The gradient with respect to `b` uses
    /// `log a`, so it is only defined for positive `a`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func pow(_ a: Tensor, _ b: Tensor) -> Tensor {
        let result = elementwise(.power, a, b, name: "pow")
        guard shouldRecord(a, b) else { return result }
        return result.recorded("pow", [a, b]) { [unowned result] g in
            [
                a.requiresGradient
                    ? (g * b * Tensor.pow(a, b - Tensor(Scalar(1)))).summed(toShape: a.shape) : nil,
                b.requiresGradient ? (g * result * a.log()).summed(toShape: b.shape) : nil,
            ]
        }
    }

    /// Elementwise maximum; where the operands are equal the gradient goes to `a`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let result = elementwise(.maximum, a, b, name: "maximum")
        guard shouldRecord(a, b) else { return result }
        return result.recorded("maximum", [a, b]) { g in
            let mask = Tensor.compare(a, .greaterOrEqual, b)
            return [
                (g * mask).summed(toShape: a.shape),
                (g * (1 - mask)).summed(toShape: b.shape),
            ]
        }
    }

    /// Elementwise minimum; where the operands are equal the gradient goes to `a`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let result = elementwise(.minimum, a, b, name: "minimum")
        guard shouldRecord(a, b) else { return result }
        return result.recorded("minimum", [a, b]) { g in
            let mask = Tensor.compare(a, .lessOrEqual, b)
            return [
                (g * mask).summed(toShape: a.shape),
                (g * (1 - mask)).summed(toShape: b.shape),
            ]
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static prefix func - (x: Tensor) -> Tensor { x.affine(scale: -1, shift: 0) }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (a: Tensor, b: Scalar) -> Tensor { a.affine(scale: 1, shift: b) }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (a: Scalar, b: Tensor) -> Tensor { b.affine(scale: 1, shift: a) }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (a: Tensor, b: Scalar) -> Tensor { a.affine(scale: 1, shift: -b) }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (a: Scalar, b: Tensor) -> Tensor { b.affine(scale: -1, shift: a) }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (a: Tensor, b: Scalar) -> Tensor { a.affine(scale: b, shift: 0) }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (a: Scalar, b: Tensor) -> Tensor { b.affine(scale: a, shift: 0) }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (a: Tensor, b: Scalar) -> Tensor { a.affine(scale: 1 / b, shift: 0) }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (a: Scalar, b: Tensor) -> Tensor { b.reciprocal() * a }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
}

// MARK: - Comparisons and selection

/// Elementwise comparisons. Results are 1 where the comparison is true and 0 elsewhere.
public enum Comparison: Sendable {
    case less, lessOrEqual, greater, greaterOrEqual, equal, notEqual
}

extension Tensor {
    /// Compares elementwise with broadcasting and returns a mask of ones and zeros.
    /// The result does not take part in differentiation.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func compare(_ a: Tensor, _ comparison: Comparison, _ b: Tensor) -> Tensor {
        switch comparison {
        case .less: return compare(a, b) { $0 < $1 }
        case .lessOrEqual: return compare(a, b) { $0 <= $1 }
        case .greater: return compare(a, b) { $0 > $1 }
        case .greaterOrEqual: return compare(a, b) { $0 >= $1 }
        case .equal: return compare(a, b) { $0 == $1 }
        case .notEqual: return compare(a, b) { $0 != $1 }
        }
    }

    /// Writes the mask of `holds(a, b)` with broadcasting. A tensor against one value or
    /// against a tensor of its own shape runs as one flat loop, which the compiler vectorises
    /// (a ReLU's pullback builds such a mask on every backward pass).
    @inline(__always)
    static func compare(
        _ a: Tensor, _ b: Tensor, holds: (Scalar, Scalar) -> Bool
    ) -> Tensor {
        let shape = ShapeRules.broadcast(a.shape, b.shape, operation: "compare")
        let result = Tensor(uninitializedShape: shape)
        let out = result.base
        let x = a.base
        let y = b.base
        if a.shape == shape && (b.scalarCount == 1 || b.shape == shape) {
            let count = result.scalarCount
            if b.scalarCount == 1 {
                let v = y[0]
                for i in 0..<count { out[i] = holds(x[i], v) ? 1 : 0 }
            } else {
                for i in 0..<count { out[i] = holds(x[i], y[i]) ? 1 : 0 }
            }
            return result
        }
        let iterator = BroadcastIterator(
            shape: shape,
            stridesA: ShapeRules.broadcastStrides(a.shape, to: shape),
            stridesB: ShapeRules.broadcastStrides(b.shape, to: shape))
        iterator.forEachRun { offsetA, offsetB, offsetOut, count, innerA, innerB in
            for i in 0..<count {
                out[offsetOut + i] = holds(x[offsetA + i * innerA], y[offsetB + i * innerB]) ? 1 : 0
            }
        }
        return result
    }

    /// Compares every element with a scalar and returns a mask of ones and zeros.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func compared(_ comparison: Comparison, _ value: Scalar) -> Tensor {
        Tensor.compare(self, comparison, Tensor(value))
    }

    /// Selects elementwise from `a` where `condition` is non-zero and from `b` elsewhere,
    /// broadcasting all three. Gradients flow to the selected operand only, so a NaN or an
    /// infinity in the operand not selected does not reach the gradient.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let valueShape = ShapeRules.broadcast(a.shape, b.shape, operation: "where")
        let shape = ShapeRules.broadcast(condition.shape, valueShape, operation: "where")
        let mask = withoutGradients { condition.broadcasted(to: shape) }
        let left = withoutGradients { a.broadcasted(to: shape) }
        let right = withoutGradients { b.broadcasted(to: shape) }
        let result = Tensor(uninitializedShape: shape)
        for i in 0..<result.scalarCount {
            result.base[i] = mask.base[i] != 0 ? left.base[i] : right.base[i]
        }
        guard shouldRecord(a, b) else { return result }
        return result.recorded("where", [a, b]) { g in
            let zeros = Tensor(zeros: shape)
            return [
                a.requiresGradient ? Tensor.where(mask, g, zeros).summed(toShape: a.shape) : nil,
                b.requiresGradient ? Tensor.where(mask, zeros, g).summed(toShape: b.shape) : nil,
            ]
        }
    }
}
