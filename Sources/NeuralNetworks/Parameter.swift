import TensorEngine

/// Marks a stored tensor property of a module as a trainable parameter.
///
/// The tensor is marked as a gradient leaf (`requiringGradient()`) when it is stored, so a
/// loss computed from it can be differentiated with respect to it. Optimizers and checkpoints
/// update the values in place, so the tensor object stays the same during training.
///
/// ```swift
/// @Parameter public var weight: Tensor<Scalar>
/// @Parameter public var bias: Tensor<Scalar>?   // nil: the module has no `bias` parameter
/// ```
///
/// - Precondition: the stored tensor is not the result of a recorded operation; store
///   `tensor.detached()` instead.
@propertyWrapper
public struct Parameter<Value: ModuleTensorValue> {
    private var storage: Value

    public var wrappedValue: Value {
        get { storage }
        set {
            storage = newValue
            storage.moduleTensor?.requiringGradient()
        }
    }

    /// The name under which the parameter is listed, when it differs from the property name.
    public let name: String?

    /// - Parameter name: The name under which module reflection lists the parameter; by
    ///   default the property name.
    public init(wrappedValue: Value, name: String? = nil) {
        storage = wrappedValue
        self.name = name
        storage.moduleTensor?.requiringGradient()
    }
}

/// Marks a stored tensor property of a module as a buffer: state that checkpoints save and
/// load but that is not trained, such as the running mean of `BatchNorm`.
@propertyWrapper
public struct Buffer<Value: ModuleTensorValue> {
    public var wrappedValue: Value

    /// The name under which the buffer is listed, when it differs from the property name.
    public let name: String?

    /// - Parameter name: The name under which module reflection lists the buffer; by default
    ///   the property name. `BatchNorm` uses PyTorch's `running_mean` and `running_var`.
    public init(wrappedValue: Value, name: String? = nil) {
        self.wrappedValue = wrappedValue
        self.name = name
    }
}

/// A type that a `@Parameter` or `@Buffer` property can hold: a tensor or an optional tensor.
public protocol ModuleTensorValue {
    associatedtype Scalar: TensorScalar
    /// The tensor held, or nil for an absent optional tensor.
    var moduleTensor: Tensor<Scalar>? { get }
}

extension Tensor: ModuleTensorValue {
    public var moduleTensor: Tensor<Scalar>? { self }
}

extension Optional: ModuleTensorValue where Wrapped: ModuleTensorValue {
    public var moduleTensor: Tensor<Wrapped.Scalar>? { self?.moduleTensor }
}

/// The storage of a `@Parameter` or `@Buffer` property, as module reflection reads it.
protocol ModuleTensorSlot {
    var isParameter: Bool { get }
    var name: String? { get }
    /// The tensor held, type-erased because reflection does not know its scalar type.
    var storedTensor: AnyObject? { get }
}

extension Parameter: ModuleTensorSlot {
    var isParameter: Bool { true }
    var storedTensor: AnyObject? { storage.moduleTensor }
}

extension Buffer: ModuleTensorSlot {
    var isParameter: Bool { false }
    var storedTensor: AnyObject? { wrappedValue.moduleTensor }
}
