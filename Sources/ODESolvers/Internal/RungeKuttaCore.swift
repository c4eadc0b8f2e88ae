/// The parts of an explicit Runge–Kutta step that fixed-step and adaptive steppers share:
/// stage evaluation, the new solution, the error norm and the dense output.
///
/// The stage buffer and the coefficient scratch array are allocated once per solve, so a step
/// allocates only what the state's own combinations allocate.
@usableFromInline
struct RungeKuttaCore<State: ODEState> {
    @usableFromInline let tableau: ButcherTableau
    /// Stage derivatives `k_i`, including the extra dense-output stages.
    @usableFromInline var stages: [State]
    /// Scratch for `h`-scaled coefficients, reused by every combination.
    @usableFromInline var coefficients: [Double]
    /// Scratch for the four terms of Hermite interpolation.
    @usableFromInline var hermiteTerms: [State]

    // The step in progress, or the last accepted one.
    @usableFromInline var startTime = 0.0
    @usableFromInline var endTime = 0.0
    /// Signed step size `endTime - startTime`.
    @usableFromInline var stepSize = 0.0
    @usableFromInline var startState: State
    @usableFromInline var endState: State
    /// `f(endTime, endState)` once known; the next step's first stage.
    @usableFromInline var endDerivative: State?
    /// True when the dynamics jump at `endTime`, so evaluations there use the adjacent time
    /// inside the step.
    @usableFromInline var endsAtJump = false
    @usableFromInline var extraStagesReady = false

    @inlinable
    init(tableau: ButcherTableau, initialState: State) {
        self.tableau = tableau
        self.stages = Array(repeating: initialState, count: tableau.allNodes.count)
        self.coefficients = Array(repeating: 0, count: max(4, tableau.allNodes.count))
        self.hermiteTerms = Array(repeating: initialState, count: 4)
        self.startState = initialState
        self.endState = initialState
    }

    /// Number of stages a step evaluates before the solution: all but a first-same-as-last stage.
    @inlinable
    var stagesBeforeSolution: Int {
        tableau.isFSAL ? tableau.stageCount - 1 : tableau.stageCount
    }

    /// Starts a step; `stages[0]` must already hold `f(startTime, startState)`.
    @inlinable
    mutating func beginStep(from start: Double, to end: Double, state: State, endsAtJump: Bool) {
        startTime = start
        endTime = end
        stepSize = end - start
        startState = state
        endDerivative = nil
        self.endsAtJump = endsAtJump
        extraStagesReady = false
    }

    /// Time of stage `stage`, kept inside the step so the dynamics are never evaluated outside
    /// the integration interval, whatever the rounding of `t + c h`.
    @inlinable
    func stageTime(_ stage: Int) -> Double {
        let node = tableau.allNodes[stage]
        if node == 1 {
            return endsAtJump ? endTime.next(toward: startTime) : endTime
        }
        let time = startTime + node * stepSize
        let lower = min(startTime, endTime)
        let upper = max(startTime, endTime)
        return min(max(time, lower), upper)
    }

    /// Evaluates the stages in `range` from the stages before them.
    @inlinable
    mutating func evaluateStages(
        _ range: Range<Int>, with dynamics: inout DynamicsEvaluator<State>, step: Int
    ) throws(ODESolveError) {
        for stage in range {
            let rowStart = stage * (stage - 1) / 2
            for j in 0..<stage {
                coefficients[j] = stepSize * tableau.flatStageCoefficients[rowStart + j]
            }
            let stageState = startState.adding(stages[0..<stage], scaledBy: coefficients[0..<stage])
            stages[stage] = try dynamics(stageTime(stage), stageState, step: step)
        }
    }

    /// Returns `y + h Σ b_i k_i`.
    @inlinable
    mutating func solution() -> State {
        let count = tableau.weightedStageCount
        for j in 0..<count {
            coefficients[j] = stepSize * tableau.weights[j]
        }
        return startState.adding(stages[0..<count], scaledBy: coefficients[0..<count])
    }

    /// Returns the error norm of the step (accept when at most 1), or infinity when the
    /// estimate is not finite. `endState` must hold the proposed solution.
    @inlinable
    mutating func errorRatio(normTemplate: ErrorNormAccumulator) -> Double {
        let primary = errorNorm(weights: tableau.primaryErrorWeights, normTemplate: normTemplate)
        var ratio = primary
        if !tableau.secondaryErrorWeights.isEmpty {
            // DOP853: ‖e5‖² / sqrt(‖e5‖² + 0.01 ‖e3‖²).
            let secondary = errorNorm(weights: tableau.secondaryErrorWeights, normTemplate: normTemplate)
            let denominator = (primary * primary + 0.01 * secondary * secondary).squareRoot()
            ratio = denominator == 0 ? 0 : primary * primary / denominator
        }
        return ratio.isNaN ? .infinity : ratio
    }

    @inlinable
    mutating func errorNorm(weights: [Double], normTemplate: ErrorNormAccumulator) -> Double {
        let count = tableau.errorStageCount
        for j in 0..<count {
            coefficients[j] = stepSize * weights[j]
        }
        let error = State.linearCombination(of: stages[0..<count], scaledBy: coefficients[0..<count])
        var norm = normTemplate
        State.accumulateError(error, previous: startState, proposal: endState, into: &norm)
        return norm.norm
    }

    /// Returns `f(endTime, endState)`, evaluating it once if the step did not.
    @inlinable
    mutating func ensureEndDerivative(with dynamics: inout DynamicsEvaluator<State>, step: Int)
        throws(ODESolveError) -> State
    {
        if let endDerivative { return endDerivative }
        let time = endsAtJump ? endTime.next(toward: startTime) : endTime
        let derivative = try dynamics(time, endState, step: step)
        endDerivative = derivative
        if tableau.isFSAL {
            stages[tableau.stageCount - 1] = derivative
        }
        return derivative
    }

    /// Returns the dense output at `time` inside the current step.
    @inlinable
    mutating func interpolate(at time: Double, with dynamics: inout DynamicsEvaluator<State>, step: Int)
        throws(ODESolveError) -> State
    {
        if time == endTime { return endState }
        if time == startTime { return startState }
        let theta = (time - startTime) / stepSize

        switch tableau.denseOutput {
        case .cubicHermite:
            let endDerivative = try ensureEndDerivative(with: &dynamics, step: step)
            // y0 + h01 (y1 - y0) + h h10 f0 + h h11 f1 with the cubic Hermite basis.
            let h01 = theta * theta * (3 - 2 * theta)
            let h10 = theta * (1 - theta) * (1 - theta)
            let h11 = theta * theta * (theta - 1)
            hermiteTerms[0] = endState
            hermiteTerms[1] = startState
            hermiteTerms[2] = stages[0]
            hermiteTerms[3] = endDerivative
            coefficients[0] = h01
            coefficients[1] = -h01
            coefficients[2] = stepSize * h10
            coefficients[3] = stepSize * h11
            return startState.adding(hermiteTerms[0..<4], scaledBy: coefficients[0..<4])

        case .polynomial:
            let ownStages = tableau.stageCount
            if tableau.isFSAL && tableau.denseStageCount >= ownStages {
                _ = try ensureEndDerivative(with: &dynamics, step: step)
            }
            if tableau.denseStageCount > ownStages && !extraStagesReady {
                try evaluateStages(ownStages..<tableau.denseStageCount, with: &dynamics, step: step)
                extraStagesReady = true
            }
            let degree = tableau.denseDegree
            for stage in 0..<tableau.denseStageCount {
                // b_i(θ) = θ (P_0 + θ (P_1 + ...)) by Horner's rule.
                let rowStart = stage * degree
                var weight = 0.0
                for power in stride(from: degree - 1, through: 0, by: -1) {
                    weight = weight * theta + tableau.flatDenseCoefficients[rowStart + power]
                }
                coefficients[stage] = stepSize * weight * theta
            }
            let count = tableau.denseStageCount
            return startState.adding(stages[0..<count], scaledBy: coefficients[0..<count])
        }
    }
}
