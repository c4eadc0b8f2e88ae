import TensorEngine

/// A two-dimensional convolution layer over `[N, C, H, W]` images, as PyTorch's `nn.Conv2d`
/// (cross-correlation, zero padding).
///
/// The weight has shape `[outputChannels, inputChannels / groups, kernelHeight, kernelWidth]`
/// and the bias `[outputChannels]`. The output has shape `[N, outputChannels, H', W']` with
/// `H' = (H + 2 · padding − kernelHeight) / stride + 1`, rounded down, and likewise `W'`.
public final class Conv2d<Scalar: TensorScalar>: Layer {
    @Parameter public var weight: Tensor<Scalar>
    @Parameter public var bias: Tensor<Scalar>?

    /// Steps between kernel positions along (height, width).
    public let strides: (height: Int, width: Int)
    /// Zeros added on both sides along (height, width).
    public let paddings: (height: Int, width: Int)
    /// Number of channel groups. Output channel `o` reads only the input channels of group
    /// `o / (outputChannels / groups)`.
    public let groups: Int

    public var inputChannels: Int { weight.shape[1] * groups }
    public var outputChannels: Int { weight.shape[0] }

    /// Creates a layer with a square kernel and PyTorch's default initialisation: weight and
    /// bias uniform on `[-1/sqrt(fanIn), 1/sqrt(fanIn))`, where
    /// `fanIn = inputChannels / groups · kernelSize²`.
    ///
    /// - Precondition: the sizes are positive and `groups` divides both channel counts.
    public convenience init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
        padding: Int = 0, groups: Int = 1, bias: Bool = true, generator: inout RandomGenerator
    ) {
        self.init(
            inputChannels: inputChannels, outputChannels: outputChannels,
            kernelSize: (kernelSize, kernelSize), strides: (stride, stride),
            paddings: (padding, padding), groups: groups, bias: bias, generator: &generator)
    }

    /// Creates a layer with a rectangular kernel (height, width) and PyTorch's default
    /// initialisation.
    ///
    /// - Precondition: the sizes are positive and `groups` divides both channel counts.
    public convenience init(
        inputChannels: Int, outputChannels: Int, kernelSize: (Int, Int), strides: (Int, Int),
        paddings: (Int, Int), groups: Int = 1, bias: Bool = true, generator: inout RandomGenerator
    ) {
        precondition(
            inputChannels > 0 && outputChannels > 0 && kernelSize.0 > 0 && kernelSize.1 > 0,
            "Conv2d: channel counts and kernel size must be positive, got inputChannels \(inputChannels), outputChannels \(outputChannels), kernelSize \(kernelSize)"
        )
        precondition(
            groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
            "Conv2d: groups \(groups) must divide inputChannels \(inputChannels) and outputChannels \(outputChannels)")
        let shape = [outputChannels, inputChannels / groups, kernelSize.0, kernelSize.1]
        let weight: Tensor<Scalar> = Initialization.kaimingUniform(shape: shape, generator: &generator)
        let biasValues: Tensor<Scalar>? =
            bias
            ? Initialization.defaultBias(
                count: outputChannels, fanIn: Initialization.fanIn(weightShape: shape), generator: &generator)
            : nil
        self.init(weight: weight, bias: biasValues, strides: strides, paddings: paddings, groups: groups)
    }

    /// Creates a layer with the given weight `[O, C / groups, kh, kw]` and bias `[O]`.
    public init(
        weight: Tensor<Scalar>, bias: Tensor<Scalar>?, strides: (Int, Int) = (1, 1),
        paddings: (Int, Int) = (0, 0), groups: Int = 1
    ) {
        precondition(weight.rank == 4, "Conv2d: the weight must have rank 4, got shape \(weight.shape)")
        precondition(
            groups > 0 && weight.shape[0] % groups == 0,
            "Conv2d: groups \(groups) must divide the \(weight.shape[0]) output channels of weight \(weight.shape)")
        precondition(
            strides.0 > 0 && strides.1 > 0 && paddings.0 >= 0 && paddings.1 >= 0,
            "Conv2d: strides must be positive and paddings non-negative, got strides \(strides), paddings \(paddings)")
        if let bias {
            precondition(
                bias.shape == [weight.shape[0]],
                "Conv2d: the bias must have shape [\(weight.shape[0])] for weight \(weight.shape), got \(bias.shape)")
        }
        self.weight = weight
        self.bias = bias
        self.strides = (strides.0, strides.1)
        self.paddings = (paddings.0, paddings.1)
        self.groups = groups
    }

    /// Convolves `input` of shape `[N, inputChannels, H, W]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(
            input.rank == 4 && input.shape[1] == inputChannels,
            "Conv2d: input shape \(input.shape) is not [N, \(inputChannels), H, W]")
        let output = conv2d(
            input, filter: weight, strides: (strides.height, strides.width),
            paddings: (paddings.height, paddings.width), groups: groups)
        guard let bias else { return output }
        return output + bias.reshaped(to: [1, outputChannels, 1, 1])
    }
}
