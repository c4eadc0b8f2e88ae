/// Solves `dy/dt = f(t, y)` from `y(times[0]) = initialState` and returns `y` at every time.
///
/// ```swift
/// let y0: StateVector<Double> = [1, 0]
/// let solution = try odeint({ _, y in [y[1], -y[0]] }, y0, at: [0, 0.5, 1])
/// print(solution.states[2], solution.statistics)
/// ```
///
/// Times may increase or decrease but must be strictly monotonic; `times[0]` is the initial
/// time. Adaptive methods step past output times and interpolate them with their dense
/// output; fixed-step methods follow ``ODESolverOptions/fixedGrid`` and interpolate between
/// grid points. The dynamics are evaluated only at times inside `[times.first, times.last]`,
/// and only just inside a jump time (see ``ODESolverOptions/jumpTimes``).
///
/// - Parameters:
///   - dynamics: The vector field `f(t, y)`. An error it throws stops the solve as
///     ``ODESolveError/dynamicsFailed(time:step:underlying:)``.
///   - initialState: `y` at `times[0]`; must be finite.
///   - times: Output times, starting with the initial time.
///   - method: The integration method. Default ``ODEMethod/dopri5``.
///   - options: Tolerances, step-size control and limits.
///   - event: An event function whose zero crossing stops the solve, or `nil`.
/// - Returns: The states at the times reached, the statistics, and the event occurrence.
/// - Throws: ``ODESolveError``: invalid times, tolerances or options before any evaluation;
///   step-size underflow, non-finite values, the step limit or an error of `dynamics` later.
@inlinable
public func odeint<State: ODEState>(
    _ dynamics: (Double, State) throws -> State,
    _ initialState: State,
    at times: [Double],
    method: ODEMethod = .dopri5,
    options: ODESolverOptions = ODESolverOptions(),
    until event: ODEEvent<State>? = nil
) throws(ODESolveError) -> ODESolution<State> {
    let setup = try validateInputs(
        times: times, initialState: initialState, method: method, options: options,
        eventTimeTolerance: event?.timeTolerance)
    if times.count == 1 {
        return ODESolution(
            times: times, states: [initialState], statistics: ODEStatistics(), event: nil)
    }

    return try withoutActuallyEscaping(dynamics) { (escapable) throws(ODESolveError) in
        let evaluator = DynamicsEvaluator(escapable)
        switch method {
        case .adamsBashforthMoulton(let maximumOrder):
            var stepper = AdamsStepper(
                maximumOrder: maximumOrder, dynamics: evaluator, initialState: initialState, setup: setup)
            return try runSolve(&stepper, setup: setup, initialState: initialState, event: event)
        default:
            // Every other case has a tableau.
            let tableau = method.tableau!
            if tableau.isAdaptive {
                var stepper = AdaptiveRungeKuttaStepper(
                    tableau: tableau, dynamics: evaluator, initialState: initialState, setup: setup)
                return try runSolve(&stepper, setup: setup, initialState: initialState, event: event)
            }
            let grid = try makeFixedGrid(setup: setup)
            var stepper = FixedGridStepper(
                tableau: tableau, dynamics: evaluator, initialState: initialState, grid: grid)
            return try runSolve(&stepper, setup: setup, initialState: initialState, event: event)
        }
    }
}
