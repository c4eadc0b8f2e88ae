import NeuralNetworks
import ODESolvers
import TensorEngine

/// The event rate `λ(z) = softplus(w₂ᵀ tanh(W₁ z + b₁) + b₂)` of an inhomogeneous Poisson
/// process driven by a latent trajectory `z(t)` (Chen et al., "Neural Ordinary Differential
/// Equations", NeurIPS 2018, Section 5.1 and Figure 7).
public final class PoissonIntensity<Scalar: TensorScalar>: Module {
    public let hidden: Linear<Scalar>
    public let output: Linear<Scalar>

    public init(latentDimension: Int, hiddenUnits: Int, generator: inout RandomGenerator) {
        hidden = Linear(inputSize: latentDimension, outputSize: hiddenUnits, generator: &generator)
        output = Linear(inputSize: hiddenUnits, outputSize: 1, generator: &generator)
    }

    /// Returns `λ(z)`, `[..., 1]` for `z` of shape `[..., latentDimension]`; positive.
    public func callAsFunction(_ z: Tensor<Scalar>) -> Tensor<Scalar> {
        output(hidden(z, activation: .tanh), activation: .softplus)
    }
}

/// Solves the latent dynamics together with the integrated intensity
/// `Λ(t) = ∫_{t₀}^t λ(z(s)) ds`, in one solve of the two-part state `(z, Λ)`:
///
/// ```
/// dz/dt = f(z),   dΛ/dt = λ(z),   Λ(t₀) = 0
/// ```
///
/// so the integral of a Poisson log-likelihood costs no separate quadrature and shares the
/// step-size control of `z`.
///
/// - Parameters:
///   - dynamics: `f(t, z)` for `z` of shape `[batch, latent]`.
///   - intensity: `λ(z)`, `[batch, 1]`, positive.
///   - initialState: `z(t₀)`, `[batch, latent]`.
///   - times: Output times; `times[0]` is `t₀`.
///   - parameters: Every trainable tensor of `dynamics` and `intensity`; required by the adjoint.
/// - Returns: The solution: `states[0]` is `z`, `[times, batch, latent]`, and `states[1]` is
///   `Λ`, `[times, batch, 1]`.
public func solveWithIntegratedIntensity<Scalar>(
    _ dynamics: @escaping (Double, Tensor<Scalar>) -> Tensor<Scalar>,
    intensity: @escaping (Tensor<Scalar>) -> Tensor<Scalar>,
    from initialState: Tensor<Scalar>, at times: [Double], method: ODEMethod = .dopri5,
    options: ODESolverOptions, gradient: GradientMethod = .adjoint, parameters: [Tensor<Scalar>]
) throws(ODESolveError) -> NeuralODESolution<Scalar> {
    precondition(
        initialState.rank == 2,
        "solveWithIntegratedIntensity: the initial state must be [batch, latent], got \(initialState.shape)")
    let integral = Tensor<Scalar>(zeros: [initialState.shape[0], 1])
    return try solveODE(
        { t, state in [dynamics(t, state[0]), intensity(state[0])] }, [initialState, integral],
        at: times, method: method, options: options, gradient: gradient, parameters: parameters)
}

/// Computes the log-likelihood of the event times of each series under an inhomogeneous Poisson process:
///
/// ```
/// log p(t₁, …, t_N) = Σ_i log λ(t_i) − ∫_{t₀}^{T} λ(t) dt
/// ```
///
/// on the observation window `[t₀, T]` of each series, with all quantities on a shared grid of
/// times.
///
/// - Parameters:
///   - intensity: `λ` at the grid times, `[times, batch, 1]`, positive.
///   - eventMask: 1 where a series has an event at a grid time, else 0; `[times, batch, 1]`.
///   - integratedIntensity: `Λ(t) = ∫_{t₀}^t λ`, `[times, batch, 1]`, with `Λ(t₀) = 0`.
///   - windowEndMask: 1 at the grid time that ends each series' window `T`, else 0;
///     `[times, batch, 1]`.
/// - Returns: `[batch]`.
/// - Precondition: the four shapes are equal.
public func poissonProcessLogLikelihood<Scalar>(
    intensity: Tensor<Scalar>, eventMask: Tensor<Scalar>, integratedIntensity: Tensor<Scalar>,
    windowEndMask: Tensor<Scalar>
) -> Tensor<Scalar> {
    precondition(
        intensity.rank == 3 && eventMask.shape == intensity.shape
            && integratedIntensity.shape == intensity.shape && windowEndMask.shape == intensity.shape,
        "poissonProcessLogLikelihood: intensity \(intensity.shape), event mask \(eventMask.shape), integrated intensity \(integratedIntensity.shape) and window-end mask \(windowEndMask.shape) must share one shape [times, batch, 1]")
    let events = (intensity.log() * eventMask).sum(alongAxes: [0, 2])
    let integral = (integratedIntensity * windowEndMask).sum(alongAxes: [0, 2])
    return events - integral
}
