import TensorEngine

/// Layers applied one after another, as PyTorch's `nn.Sequential`.
///
/// Members are named by position, so the parameters of `Sequential(linear, tanh, linear)`
/// are `0.weight`, `0.bias`, `2.weight` and `2.bias`, the same names as in PyTorch.
public final class Sequential<Scalar: TensorScalar>: Layer {
    /// The layers, in the order they are applied.
    public let layers: [any Layer<Scalar>]

    public init(_ layers: [any Layer<Scalar>]) {
        self.layers = layers
    }

    public convenience init(_ layers: any Layer<Scalar>...) {
        self.init(layers)
    }

    public var namedMembers: [ModuleMember<Scalar>] {
        layers.enumerated().map { .module(name: String($0.offset), module: $0.element) }
    }

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var output = input
        for layer in layers { output = layer(output) }
        return output
    }
}
