/// An embedded Runge–Kutta pair with error control: propose a step, evaluate the stages,
/// estimate the error, then accept or reject and adapt the step size.
@usableFromInline
struct AdaptiveRungeKuttaStepper<State: ODEState>: ODEStepper {
    @usableFromInline var core: RungeKuttaCore<State>
    @usableFromInline var dynamics: DynamicsEvaluator<State>
    @usableFromInline let setup: SolveSetup
    @usableFromInline let controller: StepSizeController
    /// `1 / k`, with `k` the error estimator's order plus one.
    @usableFromInline let exponentScale: Double

    @usableFromInline var time: Double
    @usableFromInline var state: State
    @usableFromInline var previousTime: Double
    @usableFromInline var lastStepSize = 0.0
    /// Magnitude of the next step to try, once chosen.
    @usableFromInline var proposedStepSize: Double?
    /// Error norm of the last accepted step, for the proportional part of the controller.
    @usableFromInline var previousRatio = 1.0
    /// True until the first step after a jump has evaluated the derivative past the jump.
    @usableFromInline var startsAfterJump = false
    @usableFromInline var acceptedSteps = 0
    @usableFromInline var rejectedSteps = 0

    /// Consecutive rejections with a non-finite error estimate after which the solve stops.
    @inlinable static var nonFiniteRejectionLimit: Int { 10 }

    @inlinable
    init(tableau: ButcherTableau, dynamics: DynamicsEvaluator<State>, initialState: State, setup: SolveSetup) {
        precondition(tableau.isAdaptive, "AdaptiveRungeKuttaStepper needs a tableau with an error estimator")
        self.core = RungeKuttaCore(tableau: tableau, initialState: initialState)
        self.dynamics = dynamics
        self.setup = setup
        self.controller = setup.options.stepSizeController
        self.exponentScale = 1 / Double(tableau.errorEstimatorOrder + 1)
        self.time = setup.startTime
        self.previousTime = setup.startTime
        self.state = initialState
        self.proposedStepSize = setup.options.initialStepSize
    }

    @inlinable var order: Int { core.tableau.order }

    @inlinable
    var statistics: ODEStatistics {
        ODEStatistics(
            functionEvaluations: dynamics.evaluationCount, acceptedSteps: acceptedSteps,
            rejectedSteps: rejectedSteps)
    }

    @inlinable var attempts: Int { acceptedSteps + rejectedSteps }

    @inlinable var nextStepSize: Double? { proposedStepSize }

    @inlinable
    mutating func step(toward limit: Double, limitIsJump: Bool) throws(ODESolveError) {
        let tableau = core.tableau

        // The first stage is the derivative at the current point: reused from the last step,
        // or evaluated at the start and just past a jump.
        let startDerivative: State
        if let derivative = core.endDerivative, !startsAfterJump, acceptedSteps > 0 {
            startDerivative = derivative
        } else {
            let evaluationTime = startsAfterJump ? time.next(toward: limit) : time
            startDerivative = try dynamics(evaluationTime, state, step: attempts)
            guard startDerivative.isFinite else {
                throw .nonFiniteDerivative(time: evaluationTime, stepSize: 0, step: attempts)
            }
        }
        startsAfterJump = false
        if proposedStepSize == nil {
            proposedStepSize = try selectInitialStepSize(
                time: time, state: state, derivative: startDerivative, limit: limit,
                limitIsJump: limitIsJump, errorEstimatorOrder: tableau.errorEstimatorOrder,
                normTemplate: setup.normTemplate, maximumStepSize: setup.options.maximumStepSize,
                dynamics: &dynamics, step: attempts)
        }
        core.stages[0] = startDerivative

        var hadRejection = false
        var nonFiniteRejections = 0
        while true {
            let end = try setup.proposeStepEnd(
                from: time, proposedMagnitude: proposedStepSize, toward: limit, attempts: attempts)
            core.beginStep(from: time, to: end, state: state, endsAtJump: end == limit && limitIsJump)

            // Evaluate the stages and the proposed solution.
            try core.evaluateStages(1..<core.stagesBeforeSolution, with: &dynamics, step: attempts)
            core.endState = core.solution()
            if tableau.isFSAL && tableau.errorStageCount == tableau.stageCount {
                _ = try core.ensureEndDerivative(with: &dynamics, step: attempts)
            }

            // Estimate the error, then accept or reject and adapt the step size.
            let ratio = core.errorRatio(normTemplate: setup.normTemplate)
            if ratio <= 1 {
                acceptedSteps += 1
                let factor = controller.acceptedFactor(
                    ratio: ratio, previousRatio: previousRatio, exponentScale: exponentScale,
                    afterRejection: hadRejection)
                proposedStepSize = abs(core.stepSize) * factor
                previousRatio = max(ratio, 1e-4)
                previousTime = time
                lastStepSize = core.stepSize
                time = end
                state = core.endState
                guard state.isFinite else {
                    throw .nonFiniteState(time: time, stepSize: lastStepSize, step: attempts)
                }
                return
            }

            rejectedSteps += 1
            hadRejection = true
            if ratio.isInfinite {
                // Either NaN or infinity in the stages, or a finite error where the error scale
                // is zero (atol = 0 at a zero component); only the first counts as non-finite.
                let derivativesFinite = core.stages[0..<core.stagesBeforeSolution].allSatisfy(\.isFinite)
                if !derivativesFinite || !core.endState.isFinite {
                    nonFiniteRejections += 1
                }
                if nonFiniteRejections >= Self.nonFiniteRejectionLimit {
                    throw derivativesFinite
                        ? .nonFiniteState(time: time, stepSize: core.stepSize, step: attempts)
                        : .nonFiniteDerivative(time: time, stepSize: core.stepSize, step: attempts)
                }
            }
            proposedStepSize =
                abs(core.stepSize) * controller.rejectedFactor(ratio: ratio, exponentScale: exponentScale)
        }
    }

    @inlinable
    mutating func interpolate(at time: Double) throws(ODESolveError) -> State {
        try core.interpolate(at: time, with: &dynamics, step: attempts)
    }

    @inlinable
    mutating func restartAfterJump() {
        core.endDerivative = nil
        startsAfterJump = true
        previousRatio = 1
    }
}
