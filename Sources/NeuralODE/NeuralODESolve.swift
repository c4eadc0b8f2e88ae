import ODESolvers
import TensorEngine

/// The solution of an initial value problem with tensors as state, at the requested times.
public struct NeuralODESolution<Scalar: TensorScalar> {
    /// One tensor per part of the state, each of shape `[times.count] + part.shape`:
    /// `states[p][i]` is part `p` at time `i`. Differentiable with respect to the initial
    /// state, the parameters and (for the adjoint methods) a times tensor.
    public let states: [Tensor<Scalar>]
    /// Statistics of the forward solve.
    public let statistics: ODEStatistics
    /// Statistics and errors of the backward pass, filled in when gradients are computed.
    public let backward: BackwardRecord

    /// The state at every time, for a single-part state: shape `[times.count] + y0.shape`.
    public var trajectory: Tensor<Scalar> { states[0] }
}

/// A record of the backward pass of an ODE solve, filled in when the gradient is computed.
///
/// A pullback cannot throw, so a backward solve that fails (step limit, non-finite adjoint)
/// leaves NaN gradients and stores its error here; `check()` rethrows it.
public final class BackwardRecord: @unchecked Sendable {
    /// Statistics summed over the backward solves, or the re-run segments for
    /// `checkpointedAdjoint`; zero for backpropagation, which has no backward solve.
    public internal(set) var statistics = ODEStatistics()
    /// The first error of the backward pass, if any.
    public internal(set) var error: ODESolveError?

    init() {}

    /// Throws the error of the backward pass, if there was one.
    public func check() throws(ODESolveError) {
        if let error { throw error }
    }
}

/// Solves `dy/dt = f(t, y)` for a tensor state and returns `y` at every time in `times`.
///
/// - Parameters:
///   - dynamics: `f(t, y)`, returning a tensor of `y`'s shape; time is `Double`.
///   - initialState: `y(times[0])`; a batch is a leading dimension.
///   - times: Output times, strictly increasing or strictly decreasing; the first is the
///     initial time.
///   - method: The solver; default `dopri5`.
///   - options: Tolerances, step limits and the other solver options.
///   - gradient: How gradients flow through the solve; default: backpropagation.
///   - parameters: The tensors the dynamics read that need gradients. Required by the adjoint
///     methods, which must know them; ignored by backpropagation.
/// - Returns: The solution; `trajectory` has shape `[times.count] + initialState.shape`.
/// - Throws: `ODESolveError` for invalid times or options and failed solves.
public func solveODE<Scalar>(
    _ dynamics: @escaping (Double, Tensor<Scalar>) -> Tensor<Scalar>,
    _ initialState: Tensor<Scalar>, at times: [Double],
    method: ODEMethod = .dopri5, options: ODESolverOptions = ODESolverOptions(),
    gradient: GradientMethod = .backpropagation, parameters: [Tensor<Scalar>] = []
) throws(ODESolveError) -> NeuralODESolution<Scalar> {
    try solveODE(
        { t, y in [dynamics(t, y[0])] }, [initialState], at: times, method: method,
        options: options, gradient: gradient, parameters: parameters)
}

/// Solves `dy/dt = f(t, y)` for a state made of several tensors, such as `(z, log p)` of a
/// continuous normalizing flow, and returns each part at every time in `times`.
///
/// See the single-tensor `solveODE` for the parameters. `dynamics` returns one derivative per
/// part, each with its part's shape.
public func solveODE<Scalar>(
    _ dynamics: @escaping (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>],
    _ initialState: [Tensor<Scalar>], at times: [Double],
    method: ODEMethod = .dopri5, options: ODESolverOptions = ODESolverOptions(),
    gradient: GradientMethod = .backpropagation, parameters: [Tensor<Scalar>] = []
) throws(ODESolveError) -> NeuralODESolution<Scalar> {
    try solveWithGradients(
        dynamics, initialState, times: times, timesTensor: nil, method: method, options: options,
        gradient: gradient, parameters: parameters)
}

/// Like `solveODE(_:_:at:…)` with the times as a one-dimensional tensor, so that the adjoint
/// methods also return gradients with respect to the times.
public func solveODE<Scalar>(
    _ dynamics: @escaping (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>],
    _ initialState: [Tensor<Scalar>], at times: Tensor<Scalar>,
    method: ODEMethod = .dopri5, options: ODESolverOptions = ODESolverOptions(),
    gradient: GradientMethod, parameters: [Tensor<Scalar>] = []
) throws(ODESolveError) -> NeuralODESolution<Scalar> {
    precondition(times.rank == 1, "solveODE: times must be one-dimensional, got shape \(times.shape)")
    return try solveWithGradients(
        dynamics, initialState, times: times.doubles, timesTensor: times, method: method,
        options: options, gradient: gradient, parameters: parameters)
}

@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func solveWithGradients<Scalar>(
    _ dynamics: @escaping (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>],
    _ initialState: [Tensor<Scalar>], times: [Double], timesTensor: Tensor<Scalar>?,
    method: ODEMethod, options: ODESolverOptions,
    gradient: GradientMethod, parameters: [Tensor<Scalar>]
) throws(ODESolveError) -> NeuralODESolution<Scalar> {
    precondition(!initialState.isEmpty, "solveODE: the initial state has no parts")
    let checkedDynamics = checkingShapes(dynamics, of: initialState)
    switch gradient {
    case .backpropagation:
        if initialState.count == 1 {
            // One tensor as the state: one recorded combination per stage, with no arrays.
            let solution = try ODESolvers.odeint(
                StateLayout(initialState).packedDynamics(checkedDynamics), initialState[0], at: times,
                method: method, options: options)
            return NeuralODESolution(
                states: [Tensor.stacked(solution.states, alongAxis: 0)], statistics: solution.statistics,
                backward: BackwardRecord())
        }
        let solution = try ODESolvers.odeint(
            checkedDynamics, initialState, at: times, method: method, options: options)
        let states = initialState.indices.map { part in
            Tensor.stacked(solution.states.map { $0[part] }, alongAxis: 0)
        }
        let record = BackwardRecord()
        return NeuralODESolution(states: states, statistics: solution.statistics, backward: record)
    case .adjoint(let adjointOptions):
        return try AdjointSolve(
            dynamics: checkedDynamics, initialState: initialState, times: times,
            timesTensor: timesTensor, method: method, options: options,
            adjointOptions: adjointOptions, parameters: parameters
        ).run()
    case .checkpointedAdjoint(let stepsPerCheckpoint):
        return try CheckpointedAdjointSolve(
            dynamics: checkedDynamics, initialState: initialState, times: times,
            timesTensor: timesTensor, method: method, options: options,
            stepsPerCheckpoint: stepsPerCheckpoint, parameters: parameters
        ).run()
    }
}

/// Wraps the dynamics with a check that they return one derivative per part, each of its
/// part's shape, naming the part and both shapes otherwise.
func checkingShapes<Scalar>(
    _ dynamics: @escaping (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>],
    of initialState: [Tensor<Scalar>]
) -> (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>] {
    let shapes = initialState.map(\.shape)
    return { t, state in
        let derivative = dynamics(t, state)
        precondition(
            derivative.count == shapes.count,
            "solveODE: the dynamics returned \(derivative.count) parts for a state of \(shapes.count)")
        for (part, shape) in shapes.enumerated() {
            precondition(
                derivative[part].shape == shape,
                "solveODE: the dynamics returned shape \(derivative[part].shape) for state part \(part) of shape \(shape)")
        }
        return derivative
    }
}
