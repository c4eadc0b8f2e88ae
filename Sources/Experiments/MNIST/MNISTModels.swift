import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

/// The three classifiers of Table 1 of Chen et al., "Neural Ordinary Differential
/// Equations" (NeurIPS 2018).
public enum MNISTModelKind: String, Sendable, CaseIterable {
    /// Six residual blocks between the downsampling layers and the head.
    case resnet
    /// One ODE block solved by an adaptive solver, trained with the adjoint method.
    case odenet
    /// The ODE-Net architecture with gradients backpropagated through the solver's steps.
    case rknet

    /// The name used in tables and pictures: `ResNet`, `ODE-Net`, `RK-Net`.
    public var displayName: String {
        switch self {
        case .resnet: "ResNet"
        case .odenet: "ODE-Net"
        case .rknet: "RK-Net"
        }
    }

    /// True for the models with an ODE block.
    public var hasODEBlock: Bool { self != .resnet }
}

/// The solver settings of the ODE block of ODE-Net and RK-Net.
public struct MNISTSolverSettings: Sendable, Equatable {
    /// The solver of the forward pass (and of the adjoint's backward pass).
    public enum Method: String, Sendable, CaseIterable {
        /// Dormand–Prince 5(4) with relative and absolute tolerance `tolerance`.
        case dopri5
        /// Classic fourth-order Runge–Kutta with `rk4Steps` equal steps on [0, 1].
        case rk4
    }

    public var method: Method = .dopri5
    /// Relative and absolute tolerance of `dopri5`; torchdiffeq's MNIST example uses 1e-3.
    public var tolerance = 1e-3
    /// Number of equal steps of `rk4` on [0, 1].
    public var rk4Steps = 4
    /// Whether the adjoint's backward solve leaves the parameter-gradient channels out of its
    /// error estimate (Kidger, Chen and Lyons, ICML 2021). Chen et al. (2018) predates this
    /// and controls the error of every channel.
    public var adjointSeminorm = true

    public init() {}

    /// The solver method for `NeuralODE.solveODE`.
    public var odeMethod: ODEMethod { method == .dopri5 ? .dopri5 : .rk4 }

    /// Tolerances and the fixed grid for `NeuralODE.solveODE`.
    public var options: ODESolverOptions {
        var options = ODESolverOptions(
            relativeTolerance: .scalar(tolerance), absoluteTolerance: .scalar(tolerance))
        if method == .rk4 {
            options.fixedGrid = .stepSize(1 / Double(rk4Steps))
        }
        return options
    }
}

/// Group normalisation with `min(32, channels)` groups, the `norm` of the reference model.
func mnistGroupNorm(_ channels: Int) -> GroupNorm<Float> {
    GroupNorm(groupCount: min(32, channels), channelCount: channels)
}

/// A convolution that also reads the time: the input gets one more channel filled with `t`,
/// placed first, as in torchdiffeq's `ConcatConv2d`.
///
/// The weight has shape `[outputChannels, inputChannels + 1, k, k]`, with the time channel at
/// input index 0, and is listed as `_layer.weight` like the reference module's.
public final class ConcatConv2d: Module {
    public typealias Scalar = Float
    /// The convolution over the time channel and the input channels.
    public let layer: Conv2d<Float>

    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, padding: Int,
        generator: inout RandomGenerator
    ) {
        layer = Conv2d(
            inputChannels: inputChannels + 1, outputChannels: outputChannels, kernelSize: kernelSize,
            padding: padding, generator: &generator)
    }

    public var namedMembers: [ModuleMember<Float>] { [.module(name: "_layer", module: layer)] }

    /// Convolves `[t; input]` where `input` is `[N, C, H, W]`.
    ///
    /// The time channel is constant, so its response does not depend on the image:
    /// `conv([t; x], W) = conv(x, W[:, 1...]) + t · conv(1, W[:, 0])`, where `1` is an image of
    /// ones with the same zero padding. Computing it this way convolves 64 channels instead of
    /// 65 and never builds the concatenated input; the sums are the same up to rounding order.
    public func callAsFunction(_ t: Double, _ input: Tensor<Float>) -> Tensor<Float> {
        let channels = input.shape[1]
        precondition(
            input.rank == 4 && channels + 1 == layer.inputChannels,
            "ConcatConv2d: input shape \(input.shape) is not [N, \(layer.inputChannels - 1), H, W]")
        let strides = (layer.strides.height, layer.strides.width)
        let paddings = (layer.paddings.height, layer.paddings.width)
        let timeFilter = layer.weight.slice(alongAxis: 1, 0..<1)
        let stateFilter = layer.weight.slice(alongAxis: 1, 1..<(channels + 1))
        let output = conv2d(input, filter: stateFilter, strides: strides, paddings: paddings)
        let ones = Tensor<Float>(ones: [1, 1, input.shape[2], input.shape[3]])
        var timeResponse = conv2d(ones, filter: timeFilter, strides: strides, paddings: paddings) * Float(t)
        if let bias = layer.bias {
            timeResponse = timeResponse + bias.reshaped(to: [1, layer.outputChannels, 1, 1])
        }
        return output + timeResponse
    }
}

/// The dynamics `f(t, h)` of the ODE block: GroupNorm → ReLU → ConcatConv2d → GroupNorm → ReLU
/// → ConcatConv2d → GroupNorm, all with `channels` channels and 3×3 kernels with padding 1.
public final class ODEFunction: Module {
    public typealias Scalar = Float
    public let norm1: GroupNorm<Float>
    public let conv1: ConcatConv2d
    public let norm2: GroupNorm<Float>
    public let conv2: ConcatConv2d
    public let norm3: GroupNorm<Float>

    public init(channels: Int, generator: inout RandomGenerator) {
        norm1 = mnistGroupNorm(channels)
        conv1 = ConcatConv2d(
            inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, generator: &generator)
        norm2 = mnistGroupNorm(channels)
        conv2 = ConcatConv2d(
            inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, generator: &generator)
        norm3 = mnistGroupNorm(channels)
    }

    public func callAsFunction(_ t: Double, _ state: Tensor<Float>) -> Tensor<Float> {
        var output = norm1(state).relu()
        output = conv1(t, output)
        output = norm2(output).relu()
        output = conv2(t, output)
        return norm3(output)
    }
}

/// An ODE block: solves `dh/dt = f(t, h)` on [0, 1] from the input and returns `h(1)`.
public final class ODEBlock: Module {
    public typealias Scalar = Float
    public let function: ODEFunction
    /// The solver and its tolerance; the Figure 3 experiments change them on a trained model.
    public var solver: MNISTSolverSettings
    /// The adjoint method (ODE-Net) or backpropagation through the solver (RK-Net).
    public var gradientMethod: GradientMethod

    public init(
        channels: Int, solver: MNISTSolverSettings, gradientMethod: GradientMethod,
        generator: inout RandomGenerator
    ) {
        function = ODEFunction(channels: channels, generator: &generator)
        self.solver = solver
        self.gradientMethod = gradientMethod
    }

    public var namedMembers: [ModuleMember<Float>] { [.module(name: "odefunc", module: function)] }

    /// Solves from `input` and returns the state at t = 1 with the solution, whose
    /// `statistics` count the forward evaluations and whose `backward` record counts the
    /// backward ones once gradients have been computed.
    public func callAsFunction(_ input: Tensor<Float>) throws(ODESolveError) -> (
        output: Tensor<Float>, solution: NeuralODESolution<Float>
    ) {
        let function = self.function
        let solution = try solveODE(
            { t, h in function(t, h) }, input, at: [0, 1], method: solver.odeMethod,
            options: solver.options, gradient: gradientMethod, parameters: function.parameters)
        return (solution.trajectory.selecting(index: 1, alongAxis: 0), solution)
    }
}

/// A pre-activation residual block: `x + conv2(relu(norm2(conv1(relu(norm1(x))))))`, with
/// 3×3 convolutions without bias, as the `ResBlock` of torchdiffeq's MNIST example.
public final class ResidualBlock: Layer {
    public typealias Scalar = Float
    public let norm1: GroupNorm<Float>
    public let conv1: Conv2d<Float>
    public let norm2: GroupNorm<Float>
    public let conv2: Conv2d<Float>

    public init(channels: Int, generator: inout RandomGenerator) {
        norm1 = mnistGroupNorm(channels)
        conv1 = Conv2d(
            inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, bias: false,
            generator: &generator)
        norm2 = mnistGroupNorm(channels)
        conv2 = Conv2d(
            inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, bias: false,
            generator: &generator)
    }

    public func callAsFunction(_ input: Tensor<Float>) -> Tensor<Float> {
        let hidden = conv1(norm1(input).relu())
        return input + conv2(norm2(hidden).relu())
    }
}

/// The result of one forward pass of `MNISTClassifier`.
public struct MNISTForwardPass {
    /// Class scores, `[N, 10]`.
    public let logits: Tensor<Float>
    /// The ODE block's solution, for its evaluation counts; nil for the ResNet.
    public let solution: NeuralODESolution<Float>?
}

/// The MNIST classifier of torchdiffeq's `odenet_mnist.py`, in any of the three variants.
///
/// Layers, with `C` channels (64 in the reference):
/// - downsampling: Conv2d(1, C, 3) → GroupNorm → ReLU → Conv2d(C, C, 4, stride 2, padding 1)
///   → GroupNorm → ReLU → Conv2d(C, C, 4, stride 2, padding 1), taking 28×28 images to 6×6;
/// - features: one `ODEBlock` (ODE-Net, RK-Net) or six `ResidualBlock`s (ResNet);
/// - head: GroupNorm → ReLU → global average pooling → Linear(C, 10).
///
/// Parameters are named as in the reference `nn.Sequential`, by position: `0.weight` for the
/// first convolution, `7.odefunc.conv1._layer.weight` in the ODE block, `12.weight` for the
/// ODE-Net's final linear layer (`17.weight` for the ResNet's).
public final class MNISTClassifier: Module {
    public typealias Scalar = Float
    public let kind: MNISTModelKind
    public let channels: Int
    public let downsampling: [any Layer<Float>]
    public let odeBlock: ODEBlock?
    public let residualBlocks: [ResidualBlock]
    public let headNorm: GroupNorm<Float>
    public let classifier: Linear<Float>

    /// Builds the model with PyTorch's default initialisation from `generator`.
    ///
    /// - Precondition: `channels` is positive and a multiple of `min(32, channels)`, so that
    ///   the group normalisations divide it.
    public init(
        kind: MNISTModelKind, channels: Int = 64, solver: MNISTSolverSettings = MNISTSolverSettings(),
        generator: inout RandomGenerator
    ) {
        precondition(
            channels > 0 && channels % min(32, channels) == 0,
            "MNISTClassifier: channels must be positive and, above 32, a multiple of 32; got \(channels)")
        self.kind = kind
        self.channels = channels
        downsampling = [
            Conv2d<Float>(inputChannels: 1, outputChannels: channels, kernelSize: 3, generator: &generator),
            mnistGroupNorm(channels),
            ReLU<Float>(),
            Conv2d<Float>(
                inputChannels: channels, outputChannels: channels, kernelSize: 4, stride: 2, padding: 1,
                generator: &generator),
            mnistGroupNorm(channels),
            ReLU<Float>(),
            Conv2d<Float>(
                inputChannels: channels, outputChannels: channels, kernelSize: 4, stride: 2, padding: 1,
                generator: &generator),
        ]
        switch kind {
        case .resnet:
            odeBlock = nil
            residualBlocks = (0..<6).map { _ in ResidualBlock(channels: channels, generator: &generator) }
        case .odenet, .rknet:
            let gradient: GradientMethod =
                kind == .odenet
                ? .adjoint(AdjointOptions(usesSeminorm: solver.adjointSeminorm)) : .backpropagation
            odeBlock = ODEBlock(channels: channels, solver: solver, gradientMethod: gradient, generator: &generator)
            residualBlocks = []
        }
        headNorm = mnistGroupNorm(channels)
        classifier = Linear(inputSize: channels, outputSize: 10, generator: &generator)
    }

    /// The members under the positions of the reference `nn.Sequential`.
    public var namedMembers: [ModuleMember<Float>] {
        var members: [ModuleMember<Float>] = downsampling.enumerated().map {
            .module(name: String($0.offset), module: $0.element)
        }
        let featureStart = downsampling.count
        if let odeBlock {
            members.append(.module(name: String(featureStart), module: odeBlock))
        }
        for (index, block) in residualBlocks.enumerated() {
            members.append(.module(name: String(featureStart + index), module: block))
        }
        // The head follows the features: norm, ReLU, pooling, flatten, linear.
        let headStart = featureStart + (odeBlock == nil ? residualBlocks.count : 1)
        members.append(.module(name: String(headStart), module: headNorm))
        members.append(.module(name: String(headStart + 4), module: classifier))
        return members
    }

    /// Classifies `images` of shape `[N, 1, 28, 28]`.
    ///
    /// - Throws: `ODESolveError` when the ODE block's solve fails.
    public func callAsFunction(_ images: Tensor<Float>) throws(ODESolveError) -> MNISTForwardPass {
        var features = downsample(images)
        var solution: NeuralODESolution<Float>?
        if let odeBlock {
            let result = try odeBlock(features)
            features = result.output
            solution = result.solution
        }
        for block in residualBlocks { features = block(features) }
        return MNISTForwardPass(logits: classify(features: features), solution: solution)
    }

    /// Applies the downsampling layers: `[N, 1, 28, 28]` to `[N, channels, 6, 6]`.
    public func downsample(_ images: Tensor<Float>) -> Tensor<Float> {
        precondition(
            images.rank == 4 && images.shape[1] == 1,
            "MNISTClassifier: images must have shape [N, 1, H, W], got \(images.shape)")
        var features = images
        for layer in downsampling { features = layer(features) }
        return features
    }

    /// Applies the head to the output of the features: `[N, channels, H, W]` to logits `[N, 10]`.
    public func classify(features: Tensor<Float>) -> Tensor<Float> {
        let pooled = headNorm(features).relu().adaptiveAveragePooled2d(outputSize: (1, 1))
        return classifier(pooled.reshaped(to: [pooled.shape[0], channels]))
    }
}
