/// A Runge–Kutta method stepping along a precomputed grid, without error control.
@usableFromInline
struct FixedGridStepper<State: ODEState>: ODEStepper {
    @usableFromInline var core: RungeKuttaCore<State>
    @usableFromInline var dynamics: DynamicsEvaluator<State>
    @usableFromInline let grid: [Double]
    /// Index of ``time`` in the grid.
    @usableFromInline var gridIndex = 0
    @usableFromInline var startsAfterJump = false

    @usableFromInline var time: Double
    @usableFromInline var state: State
    @usableFromInline var previousTime: Double
    @usableFromInline var lastStepSize = 0.0

    @inlinable
    init(tableau: ButcherTableau, dynamics: DynamicsEvaluator<State>, initialState: State, grid: [Double]) {
        self.core = RungeKuttaCore(tableau: tableau, initialState: initialState)
        self.dynamics = dynamics
        self.grid = grid
        self.time = grid[0]
        self.previousTime = grid[0]
        self.state = initialState
    }

    @inlinable var order: Int { core.tableau.order }
    @inlinable var nextStepSize: Double? { nil }

    @inlinable
    var statistics: ODEStatistics {
        ODEStatistics(functionEvaluations: dynamics.evaluationCount, acceptedSteps: gridIndex)
    }

    @inlinable
    mutating func step(toward limit: Double, limitIsJump: Bool) throws(ODESolveError) {
        precondition(gridIndex + 1 < grid.count, "FixedGridStepper: stepped past the end of the grid")
        let end = grid[gridIndex + 1]

        let startDerivative: State
        if let derivative = core.endDerivative, !startsAfterJump, gridIndex > 0 {
            startDerivative = derivative
        } else {
            let evaluationTime = startsAfterJump ? time.next(toward: end) : time
            startDerivative = try dynamics(evaluationTime, state, step: gridIndex)
        }
        startsAfterJump = false
        guard startDerivative.isFinite else {
            throw .nonFiniteDerivative(time: time, stepSize: end - time, step: gridIndex)
        }
        core.stages[0] = startDerivative
        core.beginStep(from: time, to: end, state: state, endsAtJump: end == limit && limitIsJump)

        try core.evaluateStages(1..<core.stagesBeforeSolution, with: &dynamics, step: gridIndex)
        core.endState = core.solution()
        gridIndex += 1
        previousTime = time
        lastStepSize = core.stepSize
        time = end
        state = core.endState
        guard state.isFinite else {
            throw .nonFiniteState(time: time, stepSize: lastStepSize, step: gridIndex)
        }
    }

    @inlinable
    mutating func interpolate(at time: Double) throws(ODESolveError) -> State {
        try core.interpolate(at: time, with: &dynamics, step: gridIndex)
    }

    @inlinable
    mutating func restartAfterJump() {
        core.endDerivative = nil
        startsAfterJump = true
    }
}

/// Builds the grid of a fixed-step solve: from the first to the last output time, through every
/// jump time, and within `maximumSteps` steps.
@inlinable
func makeFixedGrid(setup: SolveSetup) throws(ODESolveError) -> [Double] {
    let times = setup.times
    let start = setup.startTime
    let end = setup.endTime
    let direction = setup.direction
    let maximumSteps = setup.options.maximumSteps

    var grid: [Double]
    var snapDistance = 0.0
    switch setup.options.fixedGrid {
    case .outputTimes:
        grid = times
    case .times(let gridTimes):
        grid = gridTimes
    case .stepSize(let stepSize):
        let ratio = abs(end - start) / stepSize
        guard ratio <= Double(maximumSteps) else {
            throw .stepLimitReached(
                limit: maximumSteps, time: start, stepSize: direction * stepSize, endTime: end)
        }
        // A last step shorter than 1e-9 of a step is merged into the one before.
        let whole = ratio.rounded(.down)
        let stepCount = max(1, ratio - whole <= 1e-9 ? Int(whole) : Int(whole) + 1)
        grid = (0..<stepCount).map { start + direction * Double($0) * stepSize }
        grid.append(end)
        snapDistance = 1e-9 * stepSize
        // Snap grid points onto nearby output times, so those outputs need no interpolation.
        for time in times.dropFirst().dropLast() {
            let index = Int((abs(time - start) / stepSize).rounded())
            if index > 0 && index < stepCount && abs(grid[index] - time) <= snapDistance {
                grid[index] = time
            }
        }
    }

    // Step exactly onto every jump time.
    for jump in setup.jumpTimes where !grid.contains(jump) {
        let insertion = grid.firstIndex { !setup.isBefore($0, jump) } ?? grid.count
        if insertion < grid.count && abs(grid[insertion] - jump) <= snapDistance && insertion < grid.count - 1 {
            grid[insertion] = jump
        } else if insertion > 0 && abs(grid[insertion - 1] - jump) <= snapDistance && insertion - 1 > 0 {
            grid[insertion - 1] = jump
        } else {
            grid.insert(jump, at: insertion)
        }
    }

    guard grid.count - 1 <= maximumSteps else {
        throw .stepLimitReached(
            limit: maximumSteps, time: start, stepSize: grid[1] - grid[0], endTime: end)
    }
    return grid
}
