// Public generic operations carry `@_specialize(where Scalar == Float)` and the same for Double.
// A caller in another module otherwise runs the unspecialised generic body, whose loops reach
// every scalar operation through a witness table (about 4x slower for `sum()` of 64 values).
// The attribute makes the generic entry point jump to a specialised copy.

/// An n-dimensional array of `Float` or `Double` values that can record the operations
/// applied to it, for reverse-mode automatic differentiation.
///
/// A tensor is an immutable value with reference identity, as in PyTorch: operations return
/// new tensors, and the identity is what `gradients(of:withRespectTo:)` keys on. Values are
/// stored contiguously in row-major order. The only in-place writes are the explicit
/// `update` methods that optimizers use on parameters outside the tape.
public final class Tensor<Scalar: TensorScalar> {
    /// Sizes of the dimensions, outermost first. A rank-0 tensor has shape `[]`.
    public let shape: [Int]
    /// Number of values, the product of `shape`.
    public let scalarCount: Int
    /// First value; `scalarCount` values follow contiguously.
    @usableFromInline let base: UnsafeMutablePointer<Scalar>
    /// The tensor that owns `base` when this one is a view of it (reshape), else `nil`.
    let owner: AnyObject?

    /// The recorded operation that produced this tensor, when it was recorded.
    var gradientNode: GradientNode<Scalar>?
    var isGradientLeaf = false

    /// The gradient accumulated by `backward()` when this is a leaf that requires gradients.
    public var gradient: Tensor<Scalar>?

    /// Creates a tensor of the given shape with uninitialised values.
    init(uninitializedShape shape: [Int]) {
        let count = Tensor.checkedCount(shape)
        self.shape = shape
        self.scalarCount = count
        self.base = TensorMemory.allocate(Scalar.self, count: count)
        self.owner = nil
    }

    /// Creates a view that shares `source`'s values under another shape of the same count.
    init(viewOf source: Tensor<Scalar>, shape: [Int]) {
        self.shape = shape
        self.scalarCount = source.scalarCount
        self.base = source.base
        self.owner = source.owner ?? source
    }

    deinit {
        if owner == nil { TensorMemory.deallocate(base, count: scalarCount) }
    }

    static func checkedCount(_ shape: [Int]) -> Int {
        var count = 1
        for size in shape {
            precondition(size >= 0, "Tensor: negative dimension in shape \(shape)")
            count *= size
        }
        return count
    }

    /// Number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// True when this tensor takes part in gradient computation: a leaf marked with
    /// `requiringGradient()` or the result of a recorded operation.
    public var requiresGradient: Bool { isGradientLeaf || gradientNode != nil }
}

// MARK: - Creation

extension Tensor {
    /// Creates a tensor from values in row-major order.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public convenience init(shape: [Int], scalars: [Scalar]) {
        self.init(uninitializedShape: shape)
        precondition(
            scalars.count == scalarCount,
            "Tensor(shape:scalars:): shape \(shape) needs \(scalarCount) values, got \(scalars.count)")
        scalars.withUnsafeBufferPointer { source in
            if scalarCount > 0 { base.update(from: source.baseAddress!, count: scalarCount) }
        }
    }

    /// Creates a one-dimensional tensor from values.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public convenience init(_ scalars: [Scalar]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// Creates a rank-0 tensor holding one value.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public convenience init(_ scalar: Scalar) {
        self.init(uninitializedShape: [])
        base[0] = scalar
    }

    /// Creates a tensor with every value equal to `value`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public convenience init(repeating value: Scalar, shape: [Int]) {
        self.init(uninitializedShape: shape)
        base.initialize(repeating: value, count: scalarCount)
    }

    /// Creates a tensor of zeros.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public convenience init(zeros shape: [Int]) {
        self.init(repeating: 0, shape: shape)
    }

    /// Creates a tensor of ones.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public convenience init(ones shape: [Int]) {
        self.init(repeating: 1, shape: shape)
    }

    /// Creates a tensor whose values are written by `body` into an uninitialised buffer.
    ///
    /// `body` must write every one of the `scalarCount` values.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public convenience init(
        shape: [Int], initializingWith body: (UnsafeMutableBufferPointer<Scalar>) throws -> Void
    ) rethrows {
        self.init(uninitializedShape: shape)
        try body(UnsafeMutableBufferPointer(start: base, count: scalarCount))
    }

    /// Creates a tensor of zeros with the shape of `other`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func zeros(like other: Tensor) -> Tensor { Tensor(zeros: other.shape) }

    /// Creates a tensor of ones with the shape of `other`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func ones(like other: Tensor) -> Tensor { Tensor(ones: other.shape) }

    /// Creates a tensor of values `start, start + step, …` below `end`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public convenience init(rangeFrom start: Scalar, to end: Scalar, step: Scalar = 1) {
        precondition(step != 0, "Tensor(rangeFrom:to:step:): step must be non-zero")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        self.init(uninitializedShape: [count])
        for i in 0..<count { base[i] = start + Scalar(i) * step }
    }

    /// Creates `count` evenly spaced values from `start` to `end`, both included.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public convenience init(linearSpaceFrom start: Scalar, to end: Scalar, count: Int) {
        precondition(count >= 1, "Tensor(linearSpaceFrom:to:count:): count must be at least 1, got \(count)")
        self.init(uninitializedShape: [count])
        let step = count > 1 ? (end - start) / Scalar(count - 1) : 0
        for i in 0..<count { base[i] = start + Scalar(i) * step }
        base[count - 1] = end
    }
}

// MARK: - Reading values

extension Tensor {
    /// All values in row-major order.
    @inlinable
    public var scalars: [Scalar] {
        Array(UnsafeBufferPointer(start: base, count: scalarCount))
    }

    /// The single value of a tensor with one element.
    public var scalar: Scalar {
        precondition(
            scalarCount == 1, "Tensor.scalar: needs exactly one value, shape is \(shape)")
        return base[0]
    }

    /// The values as `Double`, for reports and tests.
    public var doubles: [Double] { scalars.map { Double($0) } }

    /// Calls `body` with the values in row-major order.
    @inlinable
    public func withUnsafeBufferPointer<R>(
        _ body: (UnsafeBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: scalarCount))
    }

    /// Calls `body` with writable values, for optimizers and loaders that update a tensor in
    /// place. Writing to a tensor that a recorded operation has used changes that record.
    @inlinable
    public func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: base, count: scalarCount))
    }

    /// Overwrites the values with those of `source`, which must have the same shape.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func assign(_ source: Tensor) {
        precondition(
            source.shape == shape, "Tensor.assign: shape \(source.shape) differs from \(shape)")
        base.update(from: source.base, count: scalarCount)
    }

    /// True when every value is finite.
    @inlinable
    public var isFinite: Bool {
        for i in 0..<scalarCount where !base[i].isFinite { return false }
        return true
    }

    /// Converts to another scalar type; the result does not take part in differentiation.
    public func converted<Other: TensorScalar>(to type: Other.Type) -> Tensor<Other> {
        Tensor<Other>(shape: shape) { out in
            for i in 0..<scalarCount { out[i] = Other(base[i]) }
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(16).map { "\($0)" }.joined(separator: ", ")
        let more = scalarCount > 16 ? ", …" : ""
        return "Tensor<\(Scalar.self)>(shape: \(shape), [\(shown)\(more)])"
    }
}
