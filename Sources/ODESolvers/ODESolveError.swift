/// The ways a solve can fail; each description names the offending value and what to try.
///
/// Input errors (times, tolerances, options) are raised before the first function
/// evaluation. Runtime errors carry the time, the signed step size and the number of step
/// attempts so far.
public enum ODESolveError: Error, CustomStringConvertible {
    /// The list of times is empty; it needs at least the initial time.
    case emptyTimes
    /// A time is NaN or infinite.
    case nonFiniteTime(index: Int, value: Double)
    /// Times repeat or change direction at `index`.
    case timesNotStrictlyMonotonic(index: Int, previous: Double, value: Double)

    /// A tolerance is negative, NaN or infinite; `componentIndex` is `nil` for a scalar one.
    case invalidTolerance(name: String, componentIndex: Int?, value: Double)
    /// A per-component tolerance has `count` entries for a state of `scalarCount` components.
    case toleranceCountMismatch(name: String, count: Int, scalarCount: Int)
    /// Both tolerances are zero for a component, so no error there could be accepted.
    case zeroTolerances(componentIndex: Int)

    /// An option or method parameter is out of range.
    case invalidOption(name: String, value: String, expected: String)

    /// The initial state or an accepted state contains NaN or infinity.
    case nonFiniteState(time: Double, stepSize: Double, step: Int)
    /// The dynamics returned NaN or infinity and shrinking the step did not help.
    case nonFiniteDerivative(time: Double, stepSize: Double, step: Int)
    /// The step size fell below ten units in the last place of the time.
    case stepSizeUnderflow(time: Double, stepSize: Double, step: Int)
    /// The solve made `limit` step attempts (or its fixed grid has more steps than that).
    case stepLimitReached(limit: Int, time: Double, stepSize: Double, endTime: Double)
    /// The dynamics threw an error.
    case dynamicsFailed(time: Double, step: Int, underlying: any Error)

    public var description: String {
        switch self {
        case .emptyTimes:
            return "The list of times is empty. Pass at least the initial time; the first time is "
                + "where the initial state is given."
        case .nonFiniteTime(let index, let value):
            return "Time \(index) is \(value). All times must be finite numbers."
        case .timesNotStrictlyMonotonic(let index, let previous, let value):
            return "Times must be strictly increasing or strictly decreasing, but time \(index) "
                + "is \(value) after \(previous). Remove repeated times and sort them in the "
                + "direction of integration."
        case .invalidTolerance(let name, let componentIndex, let value):
            let position = componentIndex.map { " at component \($0)" } ?? ""
            return "\(name) is \(value)\(position). Tolerances must be finite and not negative."
        case .toleranceCountMismatch(let name, let count, let scalarCount):
            return "\(name) has \(count) per-component values but the state has \(scalarCount) "
                + "scalar components. Pass one value per component or a single scalar tolerance."
        case .zeroTolerances(let componentIndex):
            return "The relative and absolute tolerances are both zero at component "
                + "\(componentIndex), so no step could pass the error test. Make either one "
                + "positive."
        case .invalidOption(let name, let value, let expected):
            return "Invalid \(name): \(value). Expected \(expected)."
        case .nonFiniteState(let time, let stepSize, let step):
            return "The state contains NaN or infinity at t = \(time) (step size \(stepSize), "
                + "step \(step)). Check the initial state and the dynamics for overflow, or "
                + "tighten the tolerances."
        case .nonFiniteDerivative(let time, let stepSize, let step):
            return "The dynamics returned NaN or infinity near t = \(time) (step size "
                + "\(stepSize), step \(step)), and shrinking the step did not help. Check the "
                + "dynamics at this time and state, for example for a division by zero or an "
                + "overflowing exponential."
        case .stepSizeUnderflow(let time, let stepSize, let step):
            return "The step size shrank to \(stepSize) at t = \(time) (step \(step)), below "
                + "what the time's precision resolves. The solution may blow up or the "
                + "dynamics may be discontinuous here: inspect them near this time, pass the "
                + "discontinuity in jumpTimes, or loosen the tolerances."
        case .stepLimitReached(let limit, let time, let stepSize, let endTime):
            return "Stopped after \(limit) steps at t = \(time) (step size \(stepSize)) before "
                + "reaching t = \(endTime). Raise maximumSteps, loosen the tolerances, or check "
                + "whether the problem is stiff, which explicit methods handle poorly."
        case .dynamicsFailed(let time, let step, let underlying):
            return "The dynamics threw an error at t = \(time) (step \(step)): \(underlying)"
        }
    }
}
