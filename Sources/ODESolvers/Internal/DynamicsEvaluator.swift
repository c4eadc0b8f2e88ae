/// The user's dynamics with an evaluation counter; wraps thrown errors in ``ODESolveError``.
@usableFromInline
struct DynamicsEvaluator<State: ODEState> {
    @usableFromInline let function: (Double, State) throws -> State
    @usableFromInline var evaluationCount = 0

    @inlinable
    init(_ function: @escaping (Double, State) throws -> State) {
        self.function = function
    }

    /// Evaluates `f(t, y)`; `step` is the number of step attempts so far, for error messages.
    @inlinable
    mutating func callAsFunction(_ time: Double, _ state: State, step: Int) throws(ODESolveError)
        -> State
    {
        evaluationCount += 1
        do {
            return try function(time, state)
        } catch {
            throw .dynamicsFailed(time: time, step: step, underlying: error)
        }
    }
}

extension Double {
    /// Returns the adjacent representable time on the side of `target`, or `self` when they are
    /// equal.
    @inlinable
    func next(toward target: Double) -> Double {
        if target > self { return nextUp }
        if target < self { return nextDown }
        return self
    }

    /// Smallest step size that still moves a solution at this time: ten units in the last place,
    /// as in SciPy's explicit Runge–Kutta solvers.
    @inlinable
    var minimumStepSize: Double {
        10 * (magnitude.nextUp - magnitude)
    }
}
