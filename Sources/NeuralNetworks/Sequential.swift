import TensorEngine

/// Layers applied one after another, as PyTorch's `nn.Sequential`.
///
/// Members are named by position, so the parameters of `Sequential(linear, tanh, linear)`
/// are `0.weight`, `0.bias`, `2.weight` and `2.bias`, the same names as in PyTorch.
public final class Sequential<Scalar: TensorScalar>: Layer {
    /// The layers, in the order they are applied.
    public let layers: [any Layer<Scalar>]

    /// The layers grouped for `callAsFunction`: runs of `Linear` layers, each with the
    /// activation layer after it if there is one, and single other layers.
    private let steps: [Step]

    private enum Step {
        case layer(any Layer<Scalar>)
        /// `positions` are the indices of the `Linear` layers in `layers`, for messages.
        case linearRun([Linear<Scalar>], activations: [ElementaryFunction?], positions: [Int])
    }

    public init(_ layers: [any Layer<Scalar>]) {
        self.layers = layers
        var steps: [Step] = []
        var linears: [Linear<Scalar>] = []
        var activations: [ElementaryFunction?] = []
        var positions: [Int] = []
        func endRun() {
            if !linears.isEmpty {
                steps.append(.linearRun(linears, activations: activations, positions: positions))
            }
            linears = []
            activations = []
            positions = []
        }
        var index = 0
        while index < layers.count {
            if let linear = layers[index] as? Linear<Scalar> {
                // `Softplus(beta: 2)` is an `ElementaryActivation` without an elementary function.
                let activation =
                    index + 1 < layers.count
                    ? (layers[index + 1] as? any ElementaryActivation)?.elementaryFunction : nil
                linears.append(linear)
                activations.append(activation)
                positions.append(index)
                index += activation == nil ? 1 : 2
            } else {
                endRun()
                steps.append(.layer(layers[index]))
                index += 1
            }
        }
        endRun()
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
    /// the same values in one pass over the output. Consecutive `Linear` layers on a rank-2
    /// input, with or without such activations between them, run as one
    /// `Tensor.linearLayers(_:count:layer:)` call, which splits a large batch's rows over two
    /// threads once for all of them.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var output = input
        for step in steps {
            switch step {
            case .layer(let layer):
                output = layer(output)
            case .linearRun(let linears, let activations, let positions):
                if linears.count > 1 && output.rank == 2 {
                    var width = output.shape[1]
                    for (linear, position) in zip(linears, positions) {
                        precondition(
                            linear.inputSize == width,
                            "Sequential: layer \(position) (Linear with inputSize \(linear.inputSize)) "
                                + "receives inputs of width \(width)")
                        if let bias = linear.bias {
                            precondition(
                                bias.rank == 1 && bias.shape[0] == linear.outputSize,
                                "Sequential: layer \(position) (Linear with outputSize \(linear.outputSize)) "
                                    + "has a bias of shape \(bias.shape); it needs [\(linear.outputSize)]")
                        }
                        width = linear.outputSize
                    }
                    output = Tensor.linearLayers(output, count: linears.count) { index in
                        LinearLayerParameters(
                            weight: linears[index].weight, bias: linears[index].bias,
                            activation: activations[index])
                    }
                } else {
                    for (linear, activation) in zip(linears, activations) {
                        output = linear(output, activation: activation)
                    }
                }
            }
        }
        return output
    }
}
