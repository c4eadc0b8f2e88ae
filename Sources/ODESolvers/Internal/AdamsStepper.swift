#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Variable-step, variable-order Adams–Bashforth–Moulton in PECE form.
///
/// The method works with true variable-step coefficients in the modified divided-difference
/// form of Krogh and of Shampine & Gordon, as derived in Hairer, Nørsett & Wanner, Solving
/// ODEs I (2nd ed.), Sec. III.5, rather than rescaling a fixed-step history. With
/// `ψ_i = t_{n+1} - t_{n-i}` and the modified divided differences
/// `Φ_j(n) = Π_{i<j} (t_n - t_{n-i-1}) · f[t_n, ..., t_{n-j}]`:
///
/// - Predict with the order-k Adams–Bashforth formula
///   `p = y_n + h Σ_{j<k} g_j β_j Φ_j(n)`, where `β_j = Π_{i<j} ψ_i(n) / ψ_i(n-1)` and
///   `g_j = (1/h) ∫ Π_{i<j} (t - t_{n-i}) / ψ_i dt` over the step, computed by the
///   recurrence `c_{j,q} = c_{j-1,q} - (h/ψ_{j-1}) c_{j-1,q+1}`, `c_{0,q} = 1/q`, `g_j = c_{j,1}`.
/// - Evaluate `f(t_{n+1}, p)`.
/// - Correct with the (k+1)-point Adams–Moulton formula `y = p + h g_k Φ_k^p(n+1)`, where
///   `Φ_k^p(n+1) = f(t_{n+1}, p) - Σ_{j<k} β_j Φ_j(n)`.
/// - Evaluate `f(t_{n+1}, y)` and update the differences with
///   `Φ_{j+1}(n+1) = Φ_j(n+1) - β_j Φ_j(n)`.
///
/// A rejected step costs one evaluation, an accepted one two. The local error of the order-k
/// corrector is estimated as `h (g_k - g_{k-1}) Φ_k^p(n+1)`, which is the difference between
/// the order k and k+1 correctors. The step propagates the order k+1 value (local
/// extrapolation), as Shampine & Gordon's STEP does. The same expression at orders k-2, k-1 and k+1 drives the order
/// selection: the order drops when a lower order's estimate is no larger, and rises when the
/// estimate at k+1 is smaller after k+1 steps at the current order. The solve starts at order
/// 1 and raises the order and doubles the step each step while the error allows it. Step
/// changes are limited to halving or doubling, and a step that could grow by less than a
/// factor 2 keeps its size, which keeps the coefficients smooth.
@usableFromInline
struct AdamsStepper<State: ODEState>: ODEStepper {
    @usableFromInline var dynamics: DynamicsEvaluator<State>
    @usableFromInline let setup: SolveSetup
    @usableFromInline let maximumOrder: Int
    @usableFromInline let safetyFactor: Double
    @usableFromInline let minimumFactor: Double

    @usableFromInline var time: Double
    @usableFromInline var state: State
    @usableFromInline var previousTime: Double
    @usableFromInline var previousState: State
    @usableFromInline var lastStepSize = 0.0
    /// Order k of the next step: predictor of order k, corrector of order k+1.
    @usableFromInline var order = 1
    @usableFromInline var stepsAtOrder = 0
    @usableFromInline var isStarting = true
    @usableFromInline var proposedStepSize: Double?
    @usableFromInline var startsAfterJump = false
    @usableFromInline var acceptedSteps = 0
    @usableFromInline var rejectedSteps = 0

    /// `Φ_0(n) ... Φ_{differenceCount-1}(n)`.
    @usableFromInline var differences: [State]
    @usableFromInline var differenceCount = 0
    /// `t_n, t_{n-1}, ...`, at most `maximumOrder + 2` of them.
    @usableFromInline var pastTimes: [Double] = []

    // Scratch arrays, sized once.
    @usableFromInline var psi: [Double]
    @usableFromInline var beta: [Double]
    @usableFromInline var g: [Double]
    @usableFromInline var integrals: [Double]
    @usableFromInline var coefficients: [Double]
    @usableFromInline var terms: [State]
    @usableFromInline var polynomial: [Double]

    // Dense output of the last accepted step: y(t) = y_{n+1} + h Σ_j W_j(σ) Φ_j(n+1).
    @usableFromInline var interpolationPsi: [Double]
    @usableFromInline var interpolationTermCount = 0

    /// Consecutive rejections with a non-finite error estimate after which the solve stops.
    @inlinable static var nonFiniteRejectionLimit: Int { 10 }

    @inlinable
    init(maximumOrder: Int, dynamics: DynamicsEvaluator<State>, initialState: State, setup: SolveSetup) {
        self.dynamics = dynamics
        self.setup = setup
        self.maximumOrder = maximumOrder
        self.safetyFactor = setup.options.stepSizeController.safetyFactor
        self.minimumFactor = setup.options.stepSizeController.minimumFactor
        self.time = setup.startTime
        self.previousTime = setup.startTime
        self.state = initialState
        self.previousState = initialState
        self.proposedStepSize = setup.options.initialStepSize
        let capacity = maximumOrder + 3
        self.differences = Array(repeating: initialState, count: capacity)
        self.terms = Array(repeating: initialState, count: capacity)
        self.psi = Array(repeating: 0, count: capacity)
        self.beta = Array(repeating: 0, count: capacity)
        self.g = Array(repeating: 0, count: capacity)
        self.integrals = Array(repeating: 0, count: capacity + 1)
        self.coefficients = Array(repeating: 0, count: capacity)
        self.polynomial = Array(repeating: 0, count: capacity + 1)
        self.interpolationPsi = Array(repeating: 0, count: capacity)
    }

    @inlinable
    var statistics: ODEStatistics {
        ODEStatistics(
            functionEvaluations: dynamics.evaluationCount, acceptedSteps: acceptedSteps,
            rejectedSteps: rejectedSteps)
    }

    @inlinable var attempts: Int { acceptedSteps + rejectedSteps }

    /// `nil`: a new solve restarts at order 1, where a step sized for the last order is too long.
    @inlinable var nextStepSize: Double? { nil }

    @inlinable
    mutating func step(toward limit: Double, limitIsJump: Bool) throws(ODESolveError) {
        if differenceCount == 0 {
            try start(toward: limit, limitIsJump: limitIsJump)
        }

        var consecutiveRejections = 0
        var nonFiniteRejections = 0
        while true {
            let end = try setup.proposeStepEnd(
                from: time, proposedMagnitude: proposedStepSize, toward: limit, attempts: attempts)
            let stepSize = end - time
            let evaluationTime = end == limit && limitIsJump ? end.next(toward: time) : end
            let k = order

            // Coefficients of this step.
            let coefficientCount = computeCoefficients(end: end, stepSize: stepSize, order: k)

            // Predict and evaluate.
            for j in 0..<k {
                coefficients[j] = stepSize * g[j] * beta[j]
            }
            let predicted = state.adding(differences[0..<k], scaledBy: coefficients[0..<k])
            let predictedDerivative = try dynamics(evaluationTime, predicted, step: attempts)

            // Φ_k^p(n+1) and the error estimates of orders k, k-1 and k-2.
            terms[0] = predictedDerivative
            coefficients[0] = 1
            for j in 0..<k {
                terms[j + 1] = differences[j]
                coefficients[j + 1] = -beta[j]
            }
            let predictedDifference = State.linearCombination(
                of: terms[0...k], scaledBy: coefficients[0...k])
            let errorK = errorEstimate(
                predictedDifference, order: k, stepSize: stepSize, proposal: predicted)
            var lowerDifference = predictedDifference
            var errorKMinus1 = Double.infinity
            var errorKMinus2 = Double.infinity
            if k >= 2 {
                lowerDifference = add(lowerDifference, differences[k - 1], scaledBy: beta[k - 1])
                errorKMinus1 = errorEstimate(
                    lowerDifference, order: k - 1, stepSize: stepSize, proposal: predicted)
            }
            if k >= 3 {
                lowerDifference = add(lowerDifference, differences[k - 2], scaledBy: beta[k - 2])
                errorKMinus2 = errorEstimate(
                    lowerDifference, order: k - 2, stepSize: stepSize, proposal: predicted)
            }

            // Reject: shrink the step, lower the order when a lower one looks better.
            guard errorK <= 1 else {
                rejectedSteps += 1
                consecutiveRejections += 1
                isStarting = false
                stepsAtOrder = 0
                if errorK.isInfinite {
                    // Count NaN or infinity in the prediction, not a finite error at a
                    // component whose error scale is zero.
                    if !predicted.isFinite || !predictedDerivative.isFinite {
                        nonFiniteRejections += 1
                    }
                    if nonFiniteRejections >= Self.nonFiniteRejectionLimit {
                        throw predicted.isFinite
                            ? .nonFiniteDerivative(time: time, stepSize: stepSize, step: attempts)
                            : .nonFiniteState(time: time, stepSize: stepSize, step: attempts)
                    }
                }
                var newOrder = k
                var newError = errorK
                if consecutiveRejections >= 3 {
                    newOrder = 1
                } else if k >= 2 && errorKMinus1 <= errorK {
                    newOrder = k - 1
                    newError = errorKMinus1
                }
                order = newOrder
                let factor =
                    newError.isFinite
                    ? safetyFactor * pow(newError, -1 / Double(newOrder + 1))
                    : minimumFactor
                proposedStepSize = abs(stepSize) * min(0.9, max(minimumFactor, factor))
                continue
            }

            // Accept: correct, evaluate again and update the differences.
            let corrected = add(predicted, predictedDifference, scaledBy: stepSize * g[k])
            guard corrected.isFinite else {
                throw .nonFiniteState(time: end, stepSize: stepSize, step: attempts + 1)
            }
            let derivative = try dynamics(evaluationTime, corrected, step: attempts)
            guard derivative.isFinite else {
                throw .nonFiniteDerivative(time: evaluationTime, stepSize: stepSize, step: attempts + 1)
            }
            let newCount = min(differenceCount + 1, k + 2)
            var newDifference = derivative
            for j in 0..<(newCount - 1) {
                let old = differences[j]
                differences[j] = newDifference
                newDifference = add(newDifference, old, scaledBy: -beta[j])
            }
            differences[newCount - 1] = newDifference
            differenceCount = newCount
            var errorKPlus1 = Double.infinity
            if newCount >= k + 2 && coefficientCount > k + 1 {
                errorKPlus1 = errorEstimate(
                    differences[k + 1], order: k + 1, stepSize: stepSize, proposal: corrected)
            }

            // Keep what the dense output of this step needs, and shift the time history.
            for i in 0..<k {
                interpolationPsi[i] = psi[i]
            }
            interpolationTermCount = min(k + 1, newCount)
            pastTimes.insert(end, at: 0)
            if pastTimes.count > maximumOrder + 2 {
                pastTimes.removeLast()
            }
            acceptedSteps += 1
            stepsAtOrder += 1
            previousTime = time
            previousState = state
            lastStepSize = stepSize
            time = end
            state = corrected

            selectOrderAndStep(
                order: k, stepSize: stepSize, errorKMinus2: errorKMinus2,
                errorKMinus1: errorKMinus1, errorK: errorK, errorKPlus1: errorKPlus1)
            return
        }
    }

    /// Evaluates the derivative at the current point and resets the history to order 1.
    @inlinable
    mutating func start(toward limit: Double, limitIsJump: Bool) throws(ODESolveError) {
        let evaluationTime = startsAfterJump ? time.next(toward: limit) : time
        let derivative = try dynamics(evaluationTime, state, step: attempts)
        guard derivative.isFinite else {
            throw .nonFiniteDerivative(time: evaluationTime, stepSize: 0, step: attempts)
        }
        differences[0] = derivative
        differenceCount = 1
        pastTimes = [time]
        order = 1
        stepsAtOrder = 0
        isStarting = true
        if startsAfterJump {
            proposedStepSize = setup.options.initialStepSize
        }
        startsAfterJump = false
        if proposedStepSize == nil {
            proposedStepSize = try selectInitialStepSize(
                time: time, state: state, derivative: derivative, limit: limit,
                limitIsJump: limitIsJump, errorEstimatorOrder: 1, normTemplate: setup.normTemplate,
                maximumStepSize: setup.options.maximumStepSize, dynamics: &dynamics, step: attempts)
        }
    }

    /// Fills `psi`, `beta` and `g` for a step to `end` at order `k`.
    ///
    /// Returns the number of valid `g_j`: `k + 2` when the history is long enough for the
    /// order k+1 estimate, else `k + 1`.
    @inlinable
    mutating func computeCoefficients(end: Double, stepSize: Double, order k: Int) -> Int {
        // ψ_i(n) = t_{n+1} - t_{n-i}, as far as the history reaches (at least i < k).
        let psiCount = min(pastTimes.count, k + 1)
        for i in 0..<psiCount {
            psi[i] = end - pastTimes[i]
        }
        // β_j = Π_{i<j} ψ_i(n) / ψ_i(n-1), with ψ_i(n-1) = t_n - t_{n-i-1}.
        beta[0] = 1
        let betaCount = min(differenceCount, k + 1)
        if betaCount > 1 {
            for j in 1..<betaCount {
                beta[j] = beta[j - 1] * psi[j - 1] / (pastTimes[0] - pastTimes[j])
            }
        }
        // g_j = c_{j,1} with c_{0,q} = 1/q and c_{j,q} = c_{j-1,q} - (h/ψ_{j-1}) c_{j-1,q+1}.
        let gCount = psiCount + 1
        for q in 1...gCount {
            integrals[q] = 1 / Double(q)
        }
        g[0] = integrals[1]
        for j in 1..<gCount {
            let alpha = stepSize / psi[j - 1]
            for q in 1...(gCount - j) {
                integrals[q] -= alpha * integrals[q + 1]
            }
            g[j] = integrals[1]
        }
        return gCount
    }

    /// Returns `|h (g_q - g_{q-1})| ‖difference‖`, the estimated local error at order `q`, or
    /// infinity when it is not finite.
    @inlinable
    func errorEstimate(_ difference: State, order q: Int, stepSize: Double, proposal: State)
        -> Double
    {
        var norm = setup.normTemplate
        State.accumulateError(difference, previous: state, proposal: proposal, into: &norm)
        let estimate = abs(stepSize * (g[q] - g[q - 1])) * norm.norm
        return estimate.isNaN ? .infinity : estimate
    }

    /// Returns `base + scale * term`.
    @inlinable
    mutating func add(_ base: State, _ term: State, scaledBy scale: Double) -> State {
        terms[terms.count - 1] = term
        coefficients[coefficients.count - 1] = scale
        return base.adding(terms[(terms.count - 1)...], scaledBy: coefficients[(coefficients.count - 1)...])
    }

    /// Chooses the order and step size of the next step after an accepted one.
    @inlinable
    mutating func selectOrderAndStep(
        order k: Int, stepSize: Double, errorKMinus2: Double, errorKMinus1: Double, errorK: Double,
        errorKPlus1: Double
    ) {
        func factor(for error: Double, order: Int) -> Double {
            error == 0 ? 2 : safetyFactor * pow(error, -1 / Double(order + 1))
        }

        var newOrder = k
        var newFactor = factor(for: errorK, order: k)
        if isStarting {
            // Start-up: raise the order and double the step while the error allows doubling.
            if newFactor >= 2 && k < maximumOrder && pastTimes.count >= k + 1 {
                newOrder = k + 1
            } else {
                isStarting = false
            }
        }
        if !isStarting {
            let lowerIsBetter =
                k == 2 ? errorKMinus1 <= 0.5 * errorK : k > 2 && max(errorKMinus1, errorKMinus2) <= errorK
            if lowerIsBetter {
                newOrder = k - 1
                newFactor = factor(for: errorKMinus1, order: k - 1)
            } else if k < maximumOrder && stepsAtOrder >= k + 1 && errorKPlus1 < errorK {
                newOrder = k + 1
                newFactor = factor(for: errorKPlus1, order: k + 1)
            }
        }
        if newOrder != k {
            stepsAtOrder = 0
        }
        order = newOrder

        // Double, keep, or shrink by at most half.
        if newFactor >= 2 {
            newFactor = 2
        } else if newFactor >= 1 {
            newFactor = 1
        } else {
            newFactor = max(0.5, newFactor)
        }
        proposedStepSize = abs(stepSize) * newFactor
    }

    @inlinable
    mutating func interpolate(at time: Double) throws(ODESolveError) -> State {
        if time == self.time { return state }
        if time == previousTime { return previousState }

        // y(t_{n+1} + σh) = y_{n+1} + h Σ_j W_j(σ) Φ_j(n+1), with
        // W_j(σ) = ∫_0^σ Π_{i<j} (u h + ψ_{i-1}) / ψ_i du and ψ_{-1} = 0.
        let stepSize = lastStepSize
        let sigma = (time - self.time) / stepSize
        let count = interpolationTermCount
        polynomial[0] = 1
        var degree = 0
        for j in 0..<count {
            var integral = 0.0
            var power = sigma
            for m in 0...degree {
                integral += polynomial[m] * power / Double(m + 1)
                power *= sigma
            }
            coefficients[j] = stepSize * integral
            if j + 1 < count {
                // Multiply by (u h + ψ_{j-1}) / ψ_j.
                let slope = stepSize / interpolationPsi[j]
                let offset = j == 0 ? 0 : interpolationPsi[j - 1] / interpolationPsi[j]
                polynomial[degree + 1] = 0
                for m in stride(from: degree + 1, through: 1, by: -1) {
                    polynomial[m] = polynomial[m] * offset + polynomial[m - 1] * slope
                }
                polynomial[0] *= offset
                degree += 1
            }
        }
        return state.adding(differences[0..<count], scaledBy: coefficients[0..<count])
    }

    @inlinable
    mutating func restartAfterJump() {
        differenceCount = 0
        startsAfterJump = true
    }
}
