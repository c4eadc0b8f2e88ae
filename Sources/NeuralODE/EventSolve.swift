import ODESolvers
import TensorEngine

/// The first zero crossing of an event function along a solution, with the crossing time and
/// the state there differentiable with respect to the initial state and the parameters.
public struct NeuralODEEventSolution<Scalar: TensorScalar> {
    /// The time of the crossing, rank 0.
    public let time: Tensor<Scalar>
    /// The state at the crossing, with the initial state's shape.
    public let state: Tensor<Scalar>
    /// Statistics of the solve that located the crossing.
    public let statistics: ODEStatistics
    /// Statistics and errors of the backward pass of the solve to the crossing.
    public let backward: BackwardRecord
}

/// Integrates `dy/dt = f(t, y)` from `startTime` until `event(t, y)` crosses zero, and returns
/// the crossing time and state, or `nil` when there is no crossing before `endTime`.
///
/// The crossing time `t*` solves `g(t*, y(t*)) = 0`, so by the implicit function theorem
/// `dt*/dθ = -(∂g/∂y · ∂y(t*)/∂θ) / (∂g/∂t + ∂g/∂y · f(t*, y(t*)))`; the state at the
/// crossing moves with it, `dy*/dθ = ∂y(t*)/∂θ + f · dt*/dθ`. Both are recorded on top of a
/// solve to `t*` with the chosen gradient method, so the returned tensors have these
/// derivatives and exactly the located values.
///
/// - Parameters:
///   - event: `g(t, y)`, returning a rank-0 tensor; written with differentiable operations.
///   - direction: Which crossings count; default any.
///   - endTime: The solve stops here when `g` does not cross zero before it.
///   - Other parameters: As for `solveODE(_:_:at:…)`.
/// - Throws: `ODESolveError` as `solveODE` does, and `invalidOption` when the crossing is
///   tangential (`dg/dt = 0` there), where the crossing time has no derivative.
public func solveODE<Scalar>(
    _ dynamics: @escaping (Double, Tensor<Scalar>) -> Tensor<Scalar>,
    _ initialState: Tensor<Scalar>, from startTime: Double, until event: @escaping (Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>,
    direction: ODEEvent<Tensor<Scalar>>.Direction = .any, endTime: Double,
    method: ODEMethod = .dopri5, options: ODESolverOptions = ODESolverOptions(),
    gradient: GradientMethod = .backpropagation, parameters: [Tensor<Scalar>] = []
) throws(ODESolveError) -> NeuralODEEventSolution<Scalar>? {
    // Locate the crossing without recording.
    let previousMode = GradientMode.isEnabled
    GradientMode.isEnabled = false
    defer { GradientMode.isEnabled = previousMode }
    let locator = ODEEvent<Tensor<Scalar>>(direction: direction) { t, y in
        let value = event(Tensor(Scalar(t)), y)
        precondition(value.scalarCount == 1, "solveODE(until:): the event function returned shape \(value.shape); it must return one value")
        return Double(value.scalar)
    }
    let located = try ODESolvers.odeint(
        dynamics, initialState.detached(), at: [startTime, endTime], method: method,
        options: options, until: locator)
    GradientMode.isEnabled = previousMode
    guard let occurrence = located.event else { return nil }
    let crossing = occurrence.time

    // The state at the crossing, differentiable by the chosen method.
    var backward = BackwardRecord()
    var state = initialState
    if crossing != startTime {
        let path = try solveODE(
            dynamics, initialState, at: [startTime, crossing], method: method, options: options,
            gradient: gradient, parameters: parameters)
        backward = path.backward
        state = path.trajectory.selecting(index: 1, alongAxis: 0)
    }

    // dg/dt along the solution: ∂g/∂t + ∂g/∂y · f, from one recorded evaluation of g.
    let (rate, derivative) = withGradientMode(enabled: true) {
        let timeLeaf = Tensor(Scalar(crossing)).requiringGradient()
        let stateLeaf = state.detached().requiringGradient()
        let value = event(timeLeaf, stateLeaf)
        let partials = gradients(of: value, withRespectTo: [timeLeaf, stateLeaf])
        let derivative = withoutGradients { dynamics(crossing, state.detached()) }
        let rate = withoutGradients { (partials[0] + (partials[1] * derivative).sum()).scalar }
        return (rate, derivative)
    }
    guard rate != 0 && rate.isFinite else {
        throw ODESolveError.invalidOption(
            name: "event", value: "a tangential crossing at t = \(crossing) (dg/dt = \(rate))",
            expected: "a crossing where the event function changes sign with non-zero slope")
    }

    // Values stay exactly (t*, y(t*)); the added terms are zero but carry the derivatives.
    let value = event(Tensor(Scalar(crossing)), state)
    let correction = (value - value.detached()) * (-1 / rate)
    let time = Tensor(Scalar(crossing)) + correction
    let movedState = state + derivative * correction
    return NeuralODEEventSolution(
        time: time, state: movedState, statistics: located.statistics, backward: backward)
}
