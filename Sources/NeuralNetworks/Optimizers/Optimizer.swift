import TensorEngine

/// A gradient-based optimizer over a fixed list of named parameters: the common part of
/// `SGD`, `Adam` and `RMSprop`.
///
/// Each `step` updates the parameter values in place, outside the gradient tape, so the
/// parameter tensors of a model stay the same objects. State such as momentum buffers is
/// kept per parameter and created at that parameter's first update, as in PyTorch.
/// Checkpoints save it under PyTorch's state names (`momentum_buffer`, `exp_avg`, ...).
///
/// ```swift
/// let optimizer = Adam(parameters: model.namedParameters, learningRate: 1e-3)
/// for batch in batches {
///     let loss = crossEntropy(logits: model(batch.inputs), labels: batch.labels)
///     optimizer.step(gradients: gradients(of: loss, withRespectTo: optimizer.parameters))
/// }
/// ```
public class Optimizer<Scalar: TensorScalar> {
    /// The parameters updated by `step`, with the names used in checkpoints.
    public let namedParameters: [(name: String, tensor: Tensor<Scalar>)]

    /// The step size γ. It may change between steps, for example from a schedule.
    ///
    /// - Precondition: non-negative and finite.
    public var learningRate: Double {
        didSet {
            precondition(
                learningRate >= 0 && learningRate.isFinite,
                "\(algorithmName): learning rate must be non-negative and finite, got \(learningRate)")
        }
    }

    /// Number of calls to `step` so far (or restored from a checkpoint).
    public internal(set) var stepCount = 0

    /// Per-parameter state, in the order of `namedParameters`.
    var states: [ParameterState<Scalar>]

    init(parameters: [(name: String, tensor: Tensor<Scalar>)], learningRate: Double) {
        var names = Set<String>()
        var identities = Set<ObjectIdentifier>()
        for (name, tensor) in parameters {
            precondition(
                names.insert(name).inserted,
                "\(Self.self): the parameter name '\(name)' appears twice; names must be unique")
            precondition(
                identities.insert(ObjectIdentifier(tensor)).inserted,
                "\(Self.self): the tensor of parameter '\(name)' is listed twice")
        }
        self.namedParameters = parameters
        self.learningRate = learningRate
        self.states = Array(repeating: ParameterState(), count: parameters.count)
        precondition(
            learningRate >= 0 && learningRate.isFinite,
            "\(algorithmName): learning rate must be non-negative and finite, got \(learningRate)")
    }

    /// The parameter tensors, in the order `step(gradients:)` expects their gradients.
    public var parameters: [Tensor<Scalar>] { namedParameters.map(\.tensor) }

    /// Updates every parameter that has a `gradient` (as `backward()` leaves it) and skips
    /// the others, as PyTorch skips parameters whose gradient is `None`.
    public func step() {
        step(gradients: namedParameters.map { $0.tensor.gradient })
    }

    /// Updates every parameter with the gradient at the same position; a nil gradient skips
    /// that parameter and leaves its state unchanged.
    ///
    /// - Precondition: one gradient per parameter, each with its parameter's shape.
    public func step(gradients: [Tensor<Scalar>?]) {
        precondition(
            gradients.count == namedParameters.count,
            "\(algorithmName).step: \(gradients.count) gradients for \(namedParameters.count) parameters")
        for (index, gradient) in gradients.enumerated() {
            guard let gradient else { continue }
            let (name, parameter) = namedParameters[index]
            precondition(
                gradient.shape == parameter.shape,
                "\(algorithmName).step: the gradient of '\(name)' has shape \(gradient.shape), the parameter \(parameter.shape)")
            states[index].step += 1
            update(parameter, gradient: gradient, state: &states[index])
        }
        stepCount += 1
    }

    /// Clears the `gradient` of every parameter, before the next `backward()`.
    public func zeroGradients() {
        for (_, tensor) in namedParameters { tensor.gradient = nil }
    }

    /// Returns the number of updates and the state buffers of the parameter named `name`, or nil
    /// when no parameter has that name.
    public func state(ofParameter name: String) -> (step: Int, buffers: [String: Tensor<Scalar>])? {
        guard let index = namedParameters.firstIndex(where: { $0.name == name }) else { return nil }
        return (states[index].step, states[index].buffers)
    }

    // MARK: - Per-algorithm parts

    /// The algorithm name stored in checkpoints, such as "Adam".
    public var algorithmName: String { preconditionFailure("Optimizer.algorithmName: subclass must override") }

    /// The state buffers a parameter has after its first update, under PyTorch's names.
    var stateBufferNames: [String] { preconditionFailure("Optimizer.stateBufferNames: subclass must override") }

    /// The hyper-parameters other than the learning rate, for checkpoint metadata.
    var hyperparameters: [(name: String, value: String)] { [] }

    /// Applies one update to `parameter` in place. `state.step` already counts this update.
    func update(_ parameter: Tensor<Scalar>, gradient: Tensor<Scalar>, state: inout ParameterState<Scalar>) {
        preconditionFailure("Optimizer.update: subclass must override")
    }

    /// Returns the buffer `name` of `state`, creating it filled with zeros on first use.
    func buffer(
        _ name: String, in state: inout ParameterState<Scalar>, shape: [Int]
    ) -> Tensor<Scalar> {
        if let existing = state.buffers[name] { return existing }
        let created = Tensor<Scalar>(zeros: shape)
        state.buffers[name] = created
        return created
    }
}

/// The state an optimizer keeps for one parameter.
struct ParameterState<Scalar: TensorScalar> {
    /// Number of updates applied to this parameter.
    var step = 0
    /// Moment estimates and similar, keyed by PyTorch's state names.
    var buffers: [String: Tensor<Scalar>] = [:]
}

/// Calls `body` with the values of `parameter` (writable), `gradient` and each of `buffers`
/// (writable), as raw pointers for the update loops.
@inline(__always)
func withUpdatePointers<Scalar: TensorScalar>(
    _ parameter: Tensor<Scalar>, _ gradient: Tensor<Scalar>, _ buffers: [Tensor<Scalar>],
    _ body: (UnsafeMutablePointer<Scalar>, UnsafePointer<Scalar>, [UnsafeMutablePointer<Scalar>], Int) -> Void
) {
    let count = parameter.scalarCount
    guard count > 0 else { return }
    parameter.withUnsafeMutableBufferPointer { values in
        gradient.withUnsafeBufferPointer { gradientValues in
            // A tensor's values stay at one address for the tensor's lifetime, and `buffers`
            // keeps the buffer tensors alive until `body` returns.
            let bufferPointers = buffers.map { buffer in
                buffer.withUnsafeMutableBufferPointer { $0.baseAddress! }
            }
            withExtendedLifetime(buffers) {
                body(values.baseAddress!, gradientValues.baseAddress!, bufferPointers, count)
            }
        }
    }
}
