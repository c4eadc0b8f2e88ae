/// The states at the requested times, with the cost of the solve.
public struct ODESolution<State> {
    /// The requested times that the solve reached, starting with the initial time. When an
    /// event stops the solve, only the times up to the event time are listed.
    public var times: [Double]

    /// The state at each of ``times``; `states[0]` is the initial state.
    public var states: [State]

    /// Function evaluations and steps.
    public var statistics: ODEStatistics

    /// The zero crossing that stopped the solve, or `nil` when it reached the last time.
    public var event: ODEEventOccurrence<State>?

    /// The time and state at the end of every accepted step, in order, when
    /// ``ODESolverOptions/recordsAcceptedStates`` is set; empty otherwise. The checkpointed
    /// adjoint method stores these as its checkpoints.
    public var acceptedStates: [(time: Double, state: State)] = []

    /// Magnitude of the step that the step-size controller proposed after the last accepted
    /// step, or `nil` for fixed-grid methods, Adams (a new solve restarts it at order 1) and
    /// solves that took no step. A solve that
    /// continues from the last time can pass it as ``ODESolverOptions/initialStepSize`` to skip
    /// the initial step selection, which costs two evaluations in the explicit methods.
    public var nextStepSize: Double?

    @usableFromInline
    init(times: [Double], states: [State], statistics: ODEStatistics, event: ODEEventOccurrence<State>?) {
        self.times = times
        self.states = states
        self.statistics = statistics
        self.event = event
    }
}

extension ODESolution: Sendable where State: Sendable {}

/// The cost of a solve.
public struct ODEStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Evaluations of the dynamics, including those of the initial step selection, of rejected
    /// steps and of dense output.
    public var functionEvaluations = 0
    /// Steps that passed the error test (every step of a fixed-step method).
    public var acceptedSteps = 0
    /// Steps that failed the error test and were retried with a smaller step.
    public var rejectedSteps = 0

    /// Creates statistics with the given counts.
    public init(functionEvaluations: Int = 0, acceptedSteps: Int = 0, rejectedSteps: Int = 0) {
        self.functionEvaluations = functionEvaluations
        self.acceptedSteps = acceptedSteps
        self.rejectedSteps = rejectedSteps
    }

    /// Step attempts, accepted and rejected.
    public var attemptedSteps: Int { acceptedSteps + rejectedSteps }

    public var description: String {
        "NFE \(functionEvaluations), accepted \(acceptedSteps), rejected \(rejectedSteps)"
    }
}

/// The zero crossing of an event function: its time, state and value.
public struct ODEEventOccurrence<State> {
    /// Time of the crossing, within the event's time tolerance, on the side where the event
    /// function has already changed sign (or is zero).
    public var time: Double
    /// The dense-output state at ``time``.
    public var state: State
    /// The event function's value at ``time``.
    public var value: Double

    @usableFromInline
    init(time: Double, state: State, value: Double) {
        self.time = time
        self.state = state
        self.value = value
    }
}

extension ODEEventOccurrence: Sendable where State: Sendable {}

/// A scalar function of time and state whose zero crossing stops the solve.
///
/// The solver evaluates the function at the end of every accepted step. When its sign
/// changes, the solver locates the crossing on the step's dense output by bracketing
/// (Illinois regula falsi with bisection safeguards) to within ``timeTolerance``, and stops
/// there. A value of exactly zero at the initial time is not a crossing.
public struct ODEEvent<State> {
    /// The crossings that stop the solve, in the direction of integration.
    public enum Direction: Sendable, Hashable {
        /// Any sign change.
        case any
        /// The function goes from negative to zero or positive.
        case increasing
        /// The function goes from positive to zero or negative.
        case decreasing
    }

    /// The event function `g(t, y)`.
    public var function: (Double, State) -> Double
    /// The crossings that count. Default ``Direction/any``.
    public var direction: Direction
    /// Width in time to which the crossing is bracketed; positive. Default `1e-12`.
    public var timeTolerance: Double

    /// Creates an event from its function.
    public init(
        direction: Direction = .any,
        timeTolerance: Double = 1e-12,
        _ function: @escaping (Double, State) -> Double
    ) {
        self.function = function
        self.direction = direction
        self.timeTolerance = timeTolerance
    }
}
