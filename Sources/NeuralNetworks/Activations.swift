import TensorEngine

/// An activation layer that is one elementary function of the tensor engine, which `Sequential`
/// can fuse into the `Linear` layer before it.
protocol ElementaryActivation {
    /// The function, or nil when the layer's settings make it something else.
    var elementaryFunction: ElementaryFunction? { get }
}

/// Elementwise hyperbolic tangent.
public final class Tanh<Scalar: TensorScalar>: Layer, ElementaryActivation {
    public init() {}
    var elementaryFunction: ElementaryFunction? { .tanh }
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { input.tanh() }
}

/// Elementwise rectified linear unit, `max(x, 0)`.
public final class ReLU<Scalar: TensorScalar>: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { input.relu() }
}

/// Elementwise logistic sigmoid, `1 / (1 + exp(-x))`.
public final class Sigmoid<Scalar: TensorScalar>: Layer, ElementaryActivation {
    public init() {}
    var elementaryFunction: ElementaryFunction? { .sigmoid }
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { input.sigmoid() }
}

/// Elementwise softplus, `log(1 + exp(β x)) / β`, as PyTorch's `nn.Softplus(beta:)`.
///
/// PyTorch switches to the identity where `β x > 20` (its `threshold`). This layer uses the
/// overflow-free form `max(z, 0) + log1p(exp(-|z|))` everywhere instead, which differs from
/// the identity there by less than `exp(-20) / β`.
public final class Softplus<Scalar: TensorScalar>: Layer, ElementaryActivation {
    /// The sharpness β; larger values approach `max(x, 0)`.
    public let beta: Scalar

    /// - Precondition: `beta` is positive.
    public init(beta: Scalar = 1) {
        precondition(beta > 0, "Softplus: beta must be positive, got \(beta)")
        self.beta = beta
    }

    var elementaryFunction: ElementaryFunction? { beta == 1 ? .softplus : nil }

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        beta == 1 ? input.softplus() : (input * beta).softplus() / beta
    }
}

/// Returns its input unchanged; a placeholder where a layer is optional.
public final class Identity<Scalar: TensorScalar>: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { input }
}
