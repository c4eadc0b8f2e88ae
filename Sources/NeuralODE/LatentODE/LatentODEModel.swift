import NeuralNetworks
import ODESolvers
import TensorEngine

/// The elementwise nonlinearity of the latent dynamics network.
public enum LatentActivation: String, Sendable, CaseIterable {
    /// `x` for `x > 0`, else `exp(x) − 1` (Clevert, Unterthiner and Hochreiter, ICLR 2016); the
    /// choice of torchdiffeq's `examples/latent_ode.py`.
    case elu
    case tanh

    /// Applies the nonlinearity; differentiable to any order.
    public func callAsFunction<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        switch self {
        case .elu: x.relu() + (x.clamped(upper: 0).exp() - 1)
        case .tanh: x.tanh()
        }
    }
}

/// The recurrent cell of a recognition network or baseline.
public enum RecurrentCellKind: String, Sendable, CaseIterable {
    /// `RNNCell`: `h' = tanh(x W_ihᵀ + h W_hhᵀ + b)`, the recognition network of torchdiffeq's
    /// latent ODE example.
    case tanh
    /// `GRUCell`.
    case gru

    /// Creates a cell of this kind.
    public func makeCell<Scalar: TensorScalar>(inputSize: Int, hiddenSize: Int, generator: inout RandomGenerator)
        -> any RecurrentCell<Scalar>
    {
        switch self {
        case .tanh: RNNCell(inputSize: inputSize, hiddenSize: hiddenSize, generator: &generator)
        case .gru: GRUCell(inputSize: inputSize, hiddenSize: hiddenSize, generator: &generator)
        }
    }
}

/// Sizes and choices of a latent ODE (Chen et al., "Neural Ordinary Differential Equations",
/// NeurIPS 2018, Section 5 and Appendix C).
///
/// The defaults are the sizes that paper gives for the spiral experiment: a 4-dimensional
/// latent state, a recognition RNN with 25 hidden units, dynamics and decoder with one hidden
/// layer of 20 units.
public struct LatentODEArchitecture: Sendable, Equatable {
    /// Channels per observation.
    public var observationDimension = 2
    public var latentDimension = 4
    public var encoderHiddenUnits = 25
    public var encoderCell: RecurrentCellKind = .tanh
    /// Whether the recognition network also reads the observation mask, which it needs when
    /// channels can be missing.
    public var encoderReadsMask = false
    public var dynamicsHiddenUnits = 20
    public var dynamicsHiddenLayers = 1
    public var dynamicsActivation: LatentActivation = .elu
    public var decoderHiddenUnits = 20

    public init() {}

    /// Features per step of the recognition network: the values, the mask when read, and the
    /// time since the previous observation.
    public var encoderInputSize: Int {
        observationDimension * (encoderReadsMask ? 2 : 1) + 1
    }
}

/// The latent dynamics `dz/dt = f(z)`: a multilayer perceptron from the latent state to its
/// derivative, autonomous in time.
public final class LatentDynamics<Scalar: TensorScalar>: Module {
    public let layers: [Linear<Scalar>]
    public let activation: LatentActivation

    /// Creates `hiddenLayers` hidden layers of `hiddenUnits` with PyTorch's default
    /// initialisation.
    ///
    /// - Precondition: the sizes are positive.
    public init(
        latentDimension: Int, hiddenUnits: Int, hiddenLayers: Int, activation: LatentActivation,
        generator: inout RandomGenerator
    ) {
        precondition(
            latentDimension > 0 && hiddenUnits > 0 && hiddenLayers > 0,
            "LatentDynamics: sizes must be positive, got latentDimension \(latentDimension), hiddenUnits \(hiddenUnits), hiddenLayers \(hiddenLayers)")
        var layers: [Linear<Scalar>] = []
        var width = latentDimension
        for _ in 0..<hiddenLayers {
            layers.append(Linear(inputSize: width, outputSize: hiddenUnits, generator: &generator))
            width = hiddenUnits
        }
        layers.append(Linear(inputSize: width, outputSize: latentDimension, generator: &generator))
        self.layers = layers
        self.activation = activation
    }

    /// Returns `f(z)` for `z` of shape `[..., latentDimension]`; `t` is not used.
    public func callAsFunction(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar> {
        var x = z
        for layer in layers.dropLast() { x = activation(layer(x)) }
        return layers[layers.count - 1](x)
    }
}

/// The decoder `x̂ = g(z)`: one hidden ReLU layer, as in torchdiffeq's latent ODE example.
public final class LatentDecoder<Scalar: TensorScalar>: Layer {
    public let hidden: Linear<Scalar>
    public let output: Linear<Scalar>

    public init(latentDimension: Int, hiddenUnits: Int, observationDimension: Int, generator: inout RandomGenerator) {
        hidden = Linear(inputSize: latentDimension, outputSize: hiddenUnits, generator: &generator)
        output = Linear(inputSize: hiddenUnits, outputSize: observationDimension, generator: &generator)
    }

    /// Decodes latent states `[..., latentDimension]` into means `[..., observationDimension]`.
    public func callAsFunction(_ z: Tensor<Scalar>) -> Tensor<Scalar> {
        output(hidden(z).relu())
    }
}

/// Observations of a batch of series in step order, as a recurrent network reads them.
///
/// Step `i` holds the `i`-th observation of every series. Series with fewer observations are
/// padded, and `isPresent` marks their real steps.
public struct ObservationSequence<Scalar: TensorScalar> {
    /// Values per step, each `[batch, channels]`; 0 where missing.
    public var values: [Tensor<Scalar>]
    /// Observation masks per step, each `[batch, channels]` (1 observed, 0 missing); `nil`
    /// when every value is observed.
    public var masks: [Tensor<Scalar>]?
    /// Time since the previous observation (or since the latent initial time, for the first
    /// one) per step, each `[batch, 1]`.
    public var timeSincePrevious: [Tensor<Scalar>]
    /// 1 for a real step and 0 for padding, per step, each `[batch, 1]`; `nil` when no step
    /// is padding.
    public var isPresent: [Tensor<Scalar>]?

    /// - Precondition: the arrays have one entry per step.
    public init(
        values: [Tensor<Scalar>], masks: [Tensor<Scalar>]? = nil, timeSincePrevious: [Tensor<Scalar>],
        isPresent: [Tensor<Scalar>]? = nil
    ) {
        precondition(!values.isEmpty, "ObservationSequence: the sequence has no steps")
        precondition(
            timeSincePrevious.count == values.count && (masks?.count ?? values.count) == values.count
                && (isPresent?.count ?? values.count) == values.count,
            "ObservationSequence: \(values.count) value steps, \(timeSincePrevious.count) time steps, \(masks?.count ?? values.count) mask steps and \(isPresent?.count ?? values.count) presence steps; all must be equal")
        self.values = values
        self.masks = masks
        self.timeSincePrevious = timeSincePrevious
        self.isPresent = isPresent
    }

    public var stepCount: Int { values.count }
    public var batchSize: Int { values[0].shape[0] }
}

/// The recognition network `q(z₀ | x)`: a recurrent cell that reads the observations backwards
/// in time, with the time gaps as an input, then a linear map from its final state to the mean
/// and log-variance of the initial latent state.
public final class RecognitionNetwork<Scalar: TensorScalar>: Module {
    public let cell: any RecurrentCell<Scalar>
    public let output: Linear<Scalar>
    public let latentDimension: Int
    public let readsMask: Bool

    public init(architecture: LatentODEArchitecture, generator: inout RandomGenerator) {
        cell = architecture.encoderCell.makeCell(
            inputSize: architecture.encoderInputSize, hiddenSize: architecture.encoderHiddenUnits,
            generator: &generator)
        output = Linear(
            inputSize: architecture.encoderHiddenUnits, outputSize: 2 * architecture.latentDimension,
            generator: &generator)
        latentDimension = architecture.latentDimension
        readsMask = architecture.encoderReadsMask
    }

    /// Reads `sequence` from its last step to its first and returns the mean and log-variance
    /// of `q(z₀ | x)`, each `[batch, latentDimension]`.
    public func callAsFunction(_ sequence: ObservationSequence<Scalar>) -> (mean: Tensor<Scalar>, logVariance: Tensor<Scalar>) {
        var hidden = cell.zeroState(batchSize: sequence.batchSize)
        for step in stride(from: sequence.stepCount - 1, through: 0, by: -1) {
            let next = cell(features(of: sequence, step: step), hidden)
            if let present = sequence.isPresent?[step] {
                hidden = hidden + present * (next - hidden)
            } else {
                hidden = next
            }
        }
        let parameters = output(hidden)
        return (
            parameters.slice(alongAxis: 1, 0..<latentDimension),
            parameters.slice(alongAxis: 1, latentDimension..<(2 * latentDimension))
        )
    }

    private func features(of sequence: ObservationSequence<Scalar>, step: Int) -> Tensor<Scalar> {
        var parts: [Tensor<Scalar>] = []
        if sequence.values[step].shape[1] > 0 { parts.append(sequence.values[step]) }
        if readsMask {
            let mask = sequence.masks?[step] ?? Tensor(ones: sequence.values[step].shape)
            if mask.shape[1] > 0 { parts.append(mask) }
        }
        parts.append(sequence.timeSincePrevious[step])
        return parts.count == 1 ? parts[0] : Tensor.concatenated(parts, alongAxis: 1)
    }
}

/// A latent ODE: recognition network, latent dynamics and decoder, trained as a variational
/// autoencoder (Chen et al., "Neural Ordinary Differential Equations", NeurIPS 2018, Section 5):
///
/// ```
/// μ, log σ² = RNN(x backwards)      z₀ = μ + σ ⊙ ε,  ε ~ N(0, I)
/// z(t₁), …, z(t_N) = ODESolve(f, z₀, t₀, t₁, …, t_N)
/// x̂(t_i) = g(z(t_i))
/// ```
public final class LatentODEModel<Scalar: TensorScalar>: Module {
    public let architecture: LatentODEArchitecture
    public let encoder: RecognitionNetwork<Scalar>
    public let dynamics: LatentDynamics<Scalar>
    public let decoder: LatentDecoder<Scalar>

    public init(architecture: LatentODEArchitecture, generator: inout RandomGenerator) {
        self.architecture = architecture
        encoder = RecognitionNetwork(architecture: architecture, generator: &generator)
        dynamics = LatentDynamics(
            latentDimension: architecture.latentDimension, hiddenUnits: architecture.dynamicsHiddenUnits,
            hiddenLayers: architecture.dynamicsHiddenLayers, activation: architecture.dynamicsActivation,
            generator: &generator)
        decoder = LatentDecoder(
            latentDimension: architecture.latentDimension, hiddenUnits: architecture.decoderHiddenUnits,
            observationDimension: architecture.observationDimension, generator: &generator)
    }

    /// Draws `z₀ = μ + exp(log σ² / 2) ⊙ ε` with `ε ~ N(0, I)` from `generator`; differentiable
    /// with respect to `mean` and `logVariance` (the reparameterisation trick).
    public static func sampleInitialState(
        mean: Tensor<Scalar>, logVariance: Tensor<Scalar>, generator: inout RandomGenerator
    ) -> Tensor<Scalar> {
        let noise = Tensor<Scalar>(randomNormal: mean.shape, generator: &generator)
        return mean + (logVariance * 0.5).exp() * noise
    }

    /// Solves the latent dynamics from `initialState` `[batch, latentDimension]` at `times`
    /// (`times[0]` is the time of the initial state) and decodes every state.
    ///
    /// With an adjoint `gradient`, the dynamics' parameters are listed for it.
    ///
    /// - Returns: The solution (`trajectory` `[times.count, batch, latentDimension]`) and the
    ///   decoded means `[times.count, batch, observationDimension]`.
    public func solve(
        from initialState: Tensor<Scalar>, at times: [Double], method: ODEMethod = .dopri5,
        options: ODESolverOptions, gradient: GradientMethod = .adjoint
    ) throws(ODESolveError) -> (solution: NeuralODESolution<Scalar>, predictions: Tensor<Scalar>) {
        let solution = try solveLatent(from: initialState, at: times, method: method, options: options, gradient: gradient)
        return (solution, decoder(solution.trajectory))
    }

    /// Solves the latent dynamics from `initialState` `[batch, latentDimension]` at `times`
    /// without decoding; `trajectory` is `[times.count, batch, latentDimension]`.
    public func solveLatent(
        from initialState: Tensor<Scalar>, at times: [Double], method: ODEMethod = .dopri5,
        options: ODESolverOptions, gradient: GradientMethod = .adjoint
    ) throws(ODESolveError) -> NeuralODESolution<Scalar> {
        try solveODE(
            dynamics.callAsFunction, initialState, at: times, method: method, options: options,
            gradient: gradient, parameters: dynamics.parameters)
    }
}
