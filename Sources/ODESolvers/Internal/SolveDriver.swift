/// Runs a stepper from the initial time to the last output time: segment by segment between
/// jump times, collecting the outputs and watching the event after every accepted step.
@inlinable
func runSolve<Stepper: ODEStepper>(
    _ stepper: inout Stepper,
    setup: SolveSetup,
    initialState: Stepper.State,
    event: ODEEvent<Stepper.State>?
) throws(ODESolveError) -> ODESolution<Stepper.State> {
    typealias State = Stepper.State
    var outputTimes = [setup.startTime]
    var outputStates = [initialState]
    outputTimes.reserveCapacity(setup.times.count)
    outputStates.reserveCapacity(setup.times.count)
    var nextOutput = 1
    var acceptedStates: [(time: Double, state: State)] = []
    var eventValue = event.map { $0.function(setup.startTime, initialState) }

    /// Appends every output time up to and including `limit` that the last step covers.
    func collectOutputs(upTo limit: Double, stepper: inout Stepper) throws(ODESolveError) {
        while nextOutput < setup.times.count && !setup.isBefore(limit, setup.times[nextOutput]) {
            let time = setup.times[nextOutput]
            let state = time == stepper.time ? stepper.state : try stepper.interpolate(at: time)
            outputTimes.append(time)
            outputStates.append(state)
            nextOutput += 1
        }
    }

    let breakpoints = setup.jumpTimes + [setup.endTime]
    for (index, segmentEnd) in breakpoints.enumerated() {
        let isJump = index < breakpoints.count - 1
        while stepper.time != segmentEnd {
            try stepper.step(toward: segmentEnd, limitIsJump: isJump)
            if let observer = setup.options.stepObserver {
                observer(
                    ODEStepReport(
                        time: stepper.time, stepSize: stepper.lastStepSize, order: stepper.order,
                        statistics: stepper.statistics))
            }
            if setup.options.recordsAcceptedStates {
                acceptedStates.append((stepper.time, stepper.state))
            }

            if let event, let previousValue = eventValue {
                let value = event.function(stepper.time, stepper.state)
                if crosses(from: previousValue, to: value, direction: event.direction) {
                    let occurrence = try locateCrossing(
                        of: event, in: &stepper, startValue: previousValue, endValue: value)
                    try collectOutputs(upTo: occurrence.time, stepper: &stepper)
                    var solution = ODESolution(
                        times: outputTimes, states: outputStates, statistics: stepper.statistics,
                        event: occurrence)
                    solution.acceptedStates = acceptedStates
                    solution.nextStepSize = stepper.nextStepSize
                    return solution
                }
                eventValue = value
            }
            try collectOutputs(upTo: stepper.time, stepper: &stepper)
        }
        if isJump {
            stepper.restartAfterJump()
        }
    }
    var solution = ODESolution(
        times: outputTimes, states: outputStates, statistics: stepper.statistics, event: nil)
    solution.acceptedStates = acceptedStates
    solution.nextStepSize = stepper.nextStepSize
    return solution
}

/// True when an event function going from `start` to `end` crosses zero in `direction`.
@inlinable
func crosses<State>(from start: Double, to end: Double, direction: ODEEvent<State>.Direction) -> Bool {
    let increasing = start < 0 && end >= 0
    let decreasing = start > 0 && end <= 0
    switch direction {
    case .any: return increasing || decreasing
    case .increasing: return increasing
    case .decreasing: return decreasing
    }
}

/// Locates the zero crossing of an event function inside the stepper's last step.
///
/// Brackets the root on the dense output with the Illinois variant of regula falsi. It
/// bisects whenever two iterations in a row fail to halve the bracket. The search stops when
/// the bracket is narrower than the event's time tolerance or contains no representable time,
/// and returns the bracket end on the far side of the crossing.
@inlinable
func locateCrossing<Stepper: ODEStepper>(
    of event: ODEEvent<Stepper.State>,
    in stepper: inout Stepper,
    startValue: Double,
    endValue: Double
) throws(ODESolveError) -> ODEEventOccurrence<Stepper.State> {
    // `near` keeps the start side's sign and `far` the end side's sign (or zero).
    var near = stepper.previousTime
    var far = stepper.time
    var nearValue = startValue
    var farValue = endValue
    var farTrueValue = endValue
    var farState = stepper.state
    var lastMovedFar: Bool?
    var slowIterations = 0

    while farTrueValue != 0 && abs(far - near) > event.timeTolerance {
        let width = abs(far - near)
        var candidate = far - farValue * (far - near) / (farValue - nearValue)
        let isInside = candidate.isFinite && (candidate - near) * (candidate - far) < 0
        if !isInside || slowIterations >= 2 {
            candidate = near + (far - near) / 2
            slowIterations = 0
        }
        guard candidate != near && candidate != far else { break }

        let state = try stepper.interpolate(at: candidate)
        let value = event.function(candidate, state)
        let onFarSide = value == 0 || (value > 0) == (farTrueValue > 0)
        if onFarSide {
            far = candidate
            farValue = value
            farTrueValue = value
            farState = state
            // Illinois: halve the stale end's value when the same end moves twice.
            if lastMovedFar == true { nearValue /= 2 }
            lastMovedFar = true
        } else {
            near = candidate
            nearValue = value
            if lastMovedFar == false { farValue /= 2 }
            lastMovedFar = false
        }
        slowIterations = abs(far - near) > 0.5 * width ? slowIterations + 1 : 0
    }
    return ODEEventOccurrence(time: far, state: farState, value: farTrueValue)
}
