#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension StepSizeController {
    /// Returns the factor for the next step after an accepted step with error norm `ratio`.
    ///
    /// `exponentScale` is `1 / k` with `k` the error estimator's order plus one; see the type's
    /// documentation for the formula.
    @inlinable
    func acceptedFactor(
        ratio: Double, previousRatio: Double, exponentScale: Double, afterRejection: Bool
    ) -> Double {
        var factor: Double
        if ratio == 0 {
            factor = maximumFactor
        } else {
            factor =
                safetyFactor
                * pow(ratio, -(integralGain + proportionalGain) * exponentScale)
                * pow(previousRatio, proportionalGain * exponentScale)
            factor = min(maximumFactor, max(minimumFactorAfterAcceptance, factor))
        }
        if afterRejection && limitsGrowthAfterRejection {
            factor = min(1, factor)
        }
        return factor
    }

    /// Returns the factor for retrying a step whose error norm `ratio` exceeded 1.
    @inlinable
    func rejectedFactor(ratio: Double, exponentScale: Double) -> Double {
        guard ratio.isFinite else { return minimumFactor }
        let factor = safetyFactor * pow(ratio, -(integralGain + proportionalGain) * exponentScale)
        return min(1, max(minimumFactor, factor))
    }
}

/// Chooses the first step size with the algorithm of Hairer, Nørsett & Wanner (Solving ODEs I,
/// 2nd ed., Sec. II.4), as SciPy's `select_initial_step` does, and returns its magnitude.
///
/// With `d0 = ‖y0‖` and `d1 = ‖f0‖` in the weighted norm at `y0`, the first guess is
/// `h0 = 0.01 d0 / d1`, or `1e-6` when either norm is below `1e-5`. One explicit Euler step of
/// size `h0` gives `d2 = ‖f(t0 + h0, y1) - f0‖ / h0`. For an error estimator of order `q`,
/// `h1 = (0.01 / max(d1, d2))^(1/(q+1))`. The result is `min(100 h0, h1)`, never beyond
/// `limit` (the next breakpoint) nor above the maximum step size. Costs one function
/// evaluation.
@inlinable
func selectInitialStepSize<State: ODEState>(
    time: Double,
    state: State,
    derivative: State,
    limit: Double,
    limitIsJump: Bool,
    errorEstimatorOrder: Int,
    normTemplate: ErrorNormAccumulator,
    maximumStepSize: Double,
    dynamics: inout DynamicsEvaluator<State>,
    step: Int
) throws(ODESolveError) -> Double {
    let interval = abs(limit - time)
    let direction: Double = limit >= time ? 1 : -1

    var norm = normTemplate
    State.accumulateError(state, previous: state, proposal: state, into: &norm)
    let stateNorm = norm.norm
    norm.reset()
    State.accumulateError(derivative, previous: state, proposal: state, into: &norm)
    let derivativeNorm = norm.norm

    var firstGuess = stateNorm < 1e-5 || derivativeNorm < 1e-5 ? 1e-6 : 0.01 * stateNorm / derivativeNorm
    if !(firstGuess.isFinite && firstGuess > 0) {
        // Tiny tolerances overflow both weighted norms, and inf / inf is NaN. Their ratio is
        // then unknown, so start from the same small step as for a vanishing norm.
        firstGuess = 1e-6
    }
    firstGuess = min(firstGuess, interval)

    // One explicit Euler step, evaluated inside [time, limit].
    let eulerState = state.adding([derivative][...], scaledBy: [direction * firstGuess][...])
    var trialTime = time + direction * firstGuess
    if firstGuess >= interval {
        trialTime = limitIsJump ? limit.next(toward: time) : limit
    }
    trialTime = direction > 0 ? min(trialTime, limit) : max(trialTime, limit)
    let trialDerivative = try dynamics(trialTime, eulerState, step: step)
    let difference = State.linearCombination(
        of: [trialDerivative, derivative][...], scaledBy: [1, -1][...])
    norm.reset()
    State.accumulateError(difference, previous: state, proposal: state, into: &norm)
    let curvatureNorm = norm.norm / firstGuess
    guard curvatureNorm.isFinite else {
        // The trial derivative overflowed; let the error control shrink from the first guess.
        return min(firstGuess, maximumStepSize)
    }

    let largest = max(derivativeNorm, curvatureNorm)
    let secondGuess =
        largest <= 1e-15
        ? max(1e-6, firstGuess * 1e-3)
        : pow(0.01 / largest, 1 / Double(errorEstimatorOrder + 1))
    let proposal = min(100 * firstGuess, secondGuess, interval, maximumStepSize)
    // An overflowed derivative norm makes `secondGuess` zero; fall back on the first guess.
    return proposal > 0 ? proposal : min(firstGuess, interval, maximumStepSize)
}
