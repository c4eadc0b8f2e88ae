import TensorEngine

/// A fully connected layer, `y = x Wᵀ + b`, as PyTorch's `nn.Linear`.
///
/// The weight has shape `[outputSize, inputSize]` and the bias `[outputSize]`. The input has
/// shape `[..., inputSize]`; every leading dimension is a batch dimension.
public final class Linear<Scalar: TensorScalar>: Layer {
    @Parameter public var weight: Tensor<Scalar>
    @Parameter public var bias: Tensor<Scalar>?

    /// Number of input features.
    public var inputSize: Int { weight.shape[1] }
    /// Number of output features.
    public var outputSize: Int { weight.shape[0] }

    /// Creates a layer with PyTorch's default initialisation: weight and bias uniform on
    /// `[-1/sqrt(inputSize), 1/sqrt(inputSize))` (Kaiming uniform with `a = sqrt(5)`).
    ///
    /// - Precondition: both sizes are positive.
    public convenience init(
        inputSize: Int, outputSize: Int, bias: Bool = true, generator: inout RandomGenerator
    ) {
        precondition(
            inputSize > 0 && outputSize > 0,
            "Linear: sizes must be positive, got inputSize \(inputSize) and outputSize \(outputSize)")
        let weight: Tensor<Scalar> = Initialization.kaimingUniform(
            shape: [outputSize, inputSize], generator: &generator)
        let biasValues: Tensor<Scalar>? =
            bias ? Initialization.defaultBias(count: outputSize, fanIn: inputSize, generator: &generator) : nil
        self.init(weight: weight, bias: biasValues)
    }

    /// Creates a layer with the given weight `[outputSize, inputSize]` and bias `[outputSize]`.
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?) {
        precondition(weight.rank == 2, "Linear: the weight must have rank 2, got shape \(weight.shape)")
        if let bias {
            precondition(
                bias.shape == [weight.shape[0]],
                "Linear: the bias must have shape [\(weight.shape[0])] for weight \(weight.shape), got \(bias.shape)")
        }
        self.weight = weight
        self.bias = bias
    }

    /// Applies the layer to `input` of shape `[..., inputSize]`.
    ///
    /// - Precondition: the last dimension of `input` is `inputSize`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        callAsFunction(input, activation: nil)
    }

    /// Applies the layer to `input` of shape `[..., inputSize]`, followed by `activation` when
    /// it is not nil: `Tanh()(layer(x))` in one pass over the output when nothing is recorded
    /// (see `Tensor.linear(_:weight:bias:activation:)`). `Sequential` calls this for a `Linear`
    /// followed by `Tanh`, `Sigmoid` or `Softplus()`.
    ///
    /// - Precondition: the last dimension of `input` is `inputSize`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(
        _ input: Tensor<Scalar>, activation: ElementaryFunction?
    ) -> Tensor<Scalar> {
        precondition(
            input.rank >= 1 && input.shape[input.rank - 1] == inputSize,
            "Linear: input shape \(input.shape) does not end in inputSize \(inputSize)")
        if input.rank == 2 {
            // The common case, without the reshapes and their shape arrays.
            return Tensor.linear(input, weight: weight, bias: bias, activation: activation)
        }
        let leading = Array(input.shape.dropLast())
        let rows = input.reshaped(to: [leading.reduce(1, *), inputSize])
        let output = Tensor.linear(rows, weight: weight, bias: bias, activation: activation)
        return output.reshaped(to: leading + [outputSize])
    }
}
