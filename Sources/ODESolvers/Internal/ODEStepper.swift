/// One integration method driven step by step by ``runSolve(_:setup:initialState:event:)``.
///
/// A stepper owns the state at the end of its last accepted step and the data to interpolate
/// inside that step. The driver requests one step at a time, never past the next breakpoint
/// (a jump time or the end time), and reads outputs and event values before the next step.
@usableFromInline
protocol ODEStepper {
    associatedtype State: ODEState

    /// Time at the end of the last accepted step (the initial time before the first step).
    var time: Double { get }
    /// State at ``time``.
    var state: State { get }
    /// Time at the start of the last accepted step.
    var previousTime: Double { get }
    /// Signed size of the last accepted step.
    var lastStepSize: Double { get }
    /// Order of the last accepted step.
    var order: Int { get }
    /// Evaluations and steps so far.
    var statistics: ODEStatistics { get }
    /// Magnitude of the step the controller proposes after the last accepted one, or `nil` where
    /// a new solve should not start with it (fixed grids, and Adams, which restarts at order 1).
    var nextStepSize: Double? { get }

    /// Takes one accepted step that ends at or before `limit`, exactly on it when it gets there.
    ///
    /// When `limitIsJump` is true the dynamics are discontinuous at `limit`, so a stage that
    /// falls on `limit` is evaluated at the adjacent time inside the step.
    @inlinable
    mutating func step(toward limit: Double, limitIsJump: Bool) throws(ODESolveError)

    /// The dense output at a time inside the last accepted step.
    @inlinable
    mutating func interpolate(at time: Double) throws(ODESolveError) -> State

    /// Forgets the derivative at ``time``, which is a jump time, so that the next step
    /// evaluates the dynamics again just past it.
    @inlinable
    mutating func restartAfterJump()
}
