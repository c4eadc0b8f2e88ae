/// Inputs of a solve after validation, in the form the steppers use.
@usableFromInline
struct SolveSetup {
    @usableFromInline let times: [Double]
    /// +1 for increasing times, -1 for decreasing ones.
    @usableFromInline let direction: Double
    /// Jump times strictly inside the interval, sorted in the direction of integration.
    @usableFromInline let jumpTimes: [Double]
    /// An empty accumulator carrying the tolerances and the seminorm's excluded ranges.
    @usableFromInline let normTemplate: ErrorNormAccumulator
    @usableFromInline let options: ODESolverOptions

    @inlinable var startTime: Double { times[0] }
    @inlinable var endTime: Double { times[times.count - 1] }

    /// True when `a` comes strictly before `b` in the direction of integration.
    @inlinable
    func isBefore(_ a: Double, _ b: Double) -> Bool {
        direction > 0 ? a < b : a > b
    }

    /// Computes the end of the next attempted step of an adaptive stepper: `proposedMagnitude`
    /// capped by the maximum step size, never past `limit`, and exactly `limit` when it is
    /// closer than the smallest representable step.
    ///
    /// Throws when `attempts` has reached the step limit or the step would underflow at `time`.
    @inlinable
    func proposeStepEnd(
        from time: Double, proposedMagnitude: Double?, toward limit: Double, attempts: Int
    ) throws(ODESolveError) -> Double {
        let magnitude = min(proposedMagnitude ?? 0, options.maximumStepSize)
        guard attempts < options.maximumSteps else {
            throw .stepLimitReached(
                limit: options.maximumSteps, time: time, stepSize: direction * magnitude,
                endTime: endTime)
        }
        guard magnitude >= time.minimumStepSize else {
            throw .stepSizeUnderflow(time: time, stepSize: direction * magnitude, step: attempts)
        }
        let end = time + direction * magnitude
        if !isBefore(end, limit) || abs(limit - end) <= limit.minimumStepSize {
            return limit
        }
        return end
    }
}

/// Checks every input of a solve before the first function evaluation.
@usableFromInline
func validateInputs<State: ODEState>(
    times: [Double],
    initialState: State,
    method: ODEMethod,
    options: ODESolverOptions,
    eventTimeTolerance: Double?
) throws(ODESolveError) -> SolveSetup {
    // Times.
    guard !times.isEmpty else { throw .emptyTimes }
    for (index, time) in times.enumerated() where !time.isFinite {
        throw .nonFiniteTime(index: index, value: time)
    }
    let direction: Double = times.count > 1 && times[1] < times[0] ? -1 : 1
    for index in times.indices.dropFirst() {
        let previous = times[index - 1]
        let time = times[index]
        let isStrictlyMonotonic = direction > 0 ? time > previous : time < previous
        guard isStrictlyMonotonic else {
            throw .timesNotStrictlyMonotonic(index: index, previous: previous, value: time)
        }
    }

    // Tolerances and the error norm.
    let normTemplate = try ErrorNormAccumulator(
        relativeTolerance: options.relativeTolerance, absoluteTolerance: options.absoluteTolerance,
        errorNorm: options.errorNorm, scalarCount: initialState.scalarCount)

    // Step-size options.
    if let initialStepSize = options.initialStepSize, !(initialStepSize.isFinite && initialStepSize > 0) {
        throw .invalidOption(
            name: "initialStepSize", value: "\(initialStepSize)", expected: "a finite positive number")
    }
    guard options.maximumStepSize > 0 else {  // also rejects NaN
        throw .invalidOption(
            name: "maximumStepSize", value: "\(options.maximumStepSize)",
            expected: "a positive number or infinity")
    }
    guard options.maximumSteps >= 1 else {
        throw .invalidOption(
            name: "maximumSteps", value: "\(options.maximumSteps)", expected: "at least 1")
    }
    try validateController(options.stepSizeController)

    // Method parameters and the fixed grid.
    if case .adamsBashforthMoulton(let maximumOrder) = method, !(1...12).contains(maximumOrder) {
        throw .invalidOption(
            name: "adamsBashforthMoulton maximumOrder", value: "\(maximumOrder)",
            expected: "an order from 1 to 12")
    }
    if !method.isAdaptive {
        try validateFixedGrid(options.fixedGrid, times: times, direction: direction)
    }

    // Jump times and the event.
    for (index, time) in options.jumpTimes.enumerated() where !time.isFinite {
        throw .invalidOption(
            name: "jumpTimes[\(index)]", value: "\(time)", expected: "a finite time")
    }
    if let eventTimeTolerance, !(eventTimeTolerance.isFinite && eventTimeTolerance > 0) {
        throw .invalidOption(
            name: "event timeTolerance", value: "\(eventTimeTolerance)",
            expected: "a finite positive number")
    }
    guard initialState.isFinite else {
        throw .nonFiniteState(time: times[0], stepSize: 0, step: 0)
    }

    let setupTimes = times
    let isInside: (Double) -> Bool = { time in
        direction > 0
            ? time > setupTimes[0] && time < setupTimes[setupTimes.count - 1]
            : time < setupTimes[0] && time > setupTimes[setupTimes.count - 1]
    }
    var jumpTimes = Array(Set(options.jumpTimes.filter(isInside)))
    jumpTimes.sort { direction > 0 ? $0 < $1 : $0 > $1 }

    return SolveSetup(
        times: times,
        direction: direction,
        jumpTimes: jumpTimes,
        normTemplate: normTemplate,
        options: options)
}

private func validateController(_ controller: StepSizeController) throws(ODESolveError) {
    func invalid(_ name: String, _ value: Double, _ expected: String) -> ODESolveError {
        .invalidOption(name: "stepSizeController.\(name)", value: "\(value)", expected: expected)
    }
    guard controller.safetyFactor > 0 && controller.safetyFactor <= 1 else {
        throw invalid("safetyFactor", controller.safetyFactor, "a number in (0, 1]")
    }
    guard controller.minimumFactor > 0 && controller.minimumFactor <= 1 else {
        throw invalid("minimumFactor", controller.minimumFactor, "a number in (0, 1]")
    }
    guard controller.maximumFactor >= 1 && controller.maximumFactor.isFinite else {
        throw invalid("maximumFactor", controller.maximumFactor, "a finite number of at least 1")
    }
    guard controller.minimumFactorAfterAcceptance > 0
        && controller.minimumFactorAfterAcceptance <= controller.maximumFactor
    else {
        throw invalid(
            "minimumFactorAfterAcceptance", controller.minimumFactorAfterAcceptance,
            "a number in (0, maximumFactor] (maximumFactor is \(controller.maximumFactor))")
    }
    guard controller.integralGain.isFinite && controller.proportionalGain.isFinite
        && controller.integralGain + controller.proportionalGain > 0
    else {
        throw invalid(
            "integralGain", controller.integralGain,
            "finite gains whose sum with proportionalGain (\(controller.proportionalGain)) is positive")
    }
}

private func validateFixedGrid(_ grid: FixedStepGrid, times: [Double], direction: Double)
    throws(ODESolveError)
{
    switch grid {
    case .outputTimes:
        return
    case .stepSize(let stepSize):
        guard stepSize.isFinite && stepSize > 0 else {
            throw .invalidOption(
                name: "fixedGrid stepSize", value: "\(stepSize)", expected: "a finite positive step size")
        }
    case .times(let gridTimes):
        if times.count == 1 { return }  // nothing to integrate
        guard gridTimes.count >= 2, gridTimes.first == times.first, gridTimes.last == times.last else {
            throw .invalidOption(
                name: "fixedGrid times", value: "\(gridTimes.count) times from \(gridTimes.first ?? .nan) to "
                    + "\(gridTimes.last ?? .nan)",
                expected: "a grid that starts at \(times[0]) and ends at \(times[times.count - 1])")
        }
        for index in gridTimes.indices.dropFirst() {
            let previous = gridTimes[index - 1]
            let time = gridTimes[index]
            let isStrictlyMonotonic = direction > 0 ? time > previous : time < previous
            guard time.isFinite && isStrictlyMonotonic else {
                throw .invalidOption(
                    name: "fixedGrid times[\(index)]", value: "\(time) after \(previous)",
                    expected: "finite times, strictly monotonic in the direction of the output times")
            }
        }
    }
}
