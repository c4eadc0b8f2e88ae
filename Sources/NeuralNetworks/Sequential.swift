import TensorEngine

/// Layers applied one after another, as PyTorch's `nn.Sequential`.
///
/// Members are named by position, so the parameters of `Sequential(linear, tanh, linear)`
/// are `0.weight`, `0.bias`, `2.weight` and `2.bias`, the same names as in PyTorch.
public final class Sequential<Scalar: TensorScalar>: Layer {
    /// The layers, in the order they are applied.
    public let layers: [any Layer<Scalar>]

    /// The layers grouped for `callAsFunction`: a `Linear` layer with the activation layer
    /// after it, or one layer.
    private let steps: [Step]

    private enum Step {
        case layer(any Layer<Scalar>)
        case linear(Linear<Scalar>, then: ElementaryFunction)
    }

    public init(_ layers: [any Layer<Scalar>]) {
        self.layers = layers
        var steps: [Step] = []
        var index = 0
        while index < layers.count {
            if let linear = layers[index] as? Linear<Scalar>, index + 1 < layers.count,
                let activation = (layers[index + 1] as? any ElementaryActivation)?.elementaryFunction
            {
                steps.append(.linear(linear, then: activation))
                index += 2
            } else {
                steps.append(.layer(layers[index]))
                index += 1
            }
        }
        self.steps = steps
    }

    public convenience init(_ layers: any Layer<Scalar>...) {
        self.init(layers)
    }

    public var namedMembers: [ModuleMember<Scalar>] {
        layers.enumerated().map { .module(name: String($0.offset), module: $0.element) }
    }

    /// Applies the layers in order. A `Linear` layer followed by `Tanh`, `Sigmoid` or
    /// `Softplus()` runs as one call, `Linear.callAsFunction(_:activation:)`, which computes
    /// the same values in one pass over the output.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var output = input
        for step in steps {
            switch step {
            case .layer(let layer): output = layer(output)
            case .linear(let linear, let activation): output = linear(output, activation: activation)
            }
        }
        return output
    }
}
