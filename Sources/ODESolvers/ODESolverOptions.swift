/// Tolerances, step-size control and limits of a solve.
///
/// The defaults follow torchdiffeq: `relativeTolerance = 1e-7`, `absoluteTolerance = 1e-9`,
/// RMS error norm, automatic first step, an integral step-size controller with safety 0.9 and
/// factors in `[0.2, 10]`. The controller and the initial step rule are SciPy's as well, so
/// `dopri5` takes the same steps as `scipy.integrate.solve_ivp(method="RK45")` at equal
/// tolerances (see docs/solvers.md for the remaining differences).
public struct ODESolverOptions: Sendable {
    /// Relative tolerance `rtol`, one value or one per scalar component. Default `1e-7`.
    public var relativeTolerance: ODETolerance

    /// Absolute tolerance `atol`, one value or one per scalar component. Default `1e-9`.
    public var absoluteTolerance: ODETolerance

    /// The norm of the scaled local error. Default ``ErrorNorm/rms``.
    public var errorNorm: ErrorNorm

    /// Size of the first step of an adaptive method, positive because the sign comes from the
    /// times. With `nil`, the solver chooses it by Hairer, Nørsett & Wanner's algorithm (Solving
    /// ODEs I, Sec. II.4) at the cost of one function evaluation. Default `nil`.
    public var initialStepSize: Double?

    /// Upper bound on the step size of adaptive methods. Default `.infinity`.
    public var maximumStepSize: Double

    /// Maximum number of step attempts, accepted and rejected together, before the solve
    /// throws ``ODESolveError/stepLimitReached(limit:time:stepSize:endTime:)``. For fixed-step
    /// methods the limit applies to the number of grid steps, checked before the first step.
    /// Default `100_000`.
    public var maximumSteps: Int

    /// Step-size controller of the Runge–Kutta methods. Default ``StepSizeController/integral``.
    public var stepSizeController: StepSizeController

    /// Steps of the fixed-step methods (`euler`, `midpoint`, `heun`, `rk4` and fixed-step
    /// custom tableaux); ignored by adaptive methods. Default ``FixedStepGrid/outputTimes``.
    public var fixedGrid: FixedStepGrid

    /// Times where the dynamics are discontinuous. Default: none.
    ///
    /// The solver steps exactly onto each time strictly inside the integration interval and
    /// restarts there. A stage that falls on the jump is evaluated at the representable time
    /// just before it, and the next step evaluates the dynamics again just after it instead of
    /// reusing the last stage. Times outside the open interval are ignored.
    public var jumpTimes: [Double]

    /// Called after every accepted step with the time, the step size and the statistics so
    /// far. Default `nil`.
    public var stepObserver: (@Sendable (ODEStepReport) -> Void)?

    /// Keeps the state after every accepted step in ``ODESolution/acceptedStates``, so that
    /// memory grows with the number of steps. Default `false`.
    public var recordsAcceptedStates = false

    /// Creates options; every argument has the default described on its property.
    public init(
        relativeTolerance: ODETolerance = 1e-7,
        absoluteTolerance: ODETolerance = 1e-9,
        errorNorm: ErrorNorm = .rms,
        initialStepSize: Double? = nil,
        maximumStepSize: Double = .infinity,
        maximumSteps: Int = 100_000,
        stepSizeController: StepSizeController = .integral,
        fixedGrid: FixedStepGrid = .outputTimes,
        jumpTimes: [Double] = [],
        stepObserver: (@Sendable (ODEStepReport) -> Void)? = nil
    ) {
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.errorNorm = errorNorm
        self.initialStepSize = initialStepSize
        self.maximumStepSize = maximumStepSize
        self.maximumSteps = maximumSteps
        self.stepSizeController = stepSizeController
        self.fixedGrid = fixedGrid
        self.jumpTimes = jumpTimes
        self.stepObserver = stepObserver
    }
}

/// A tolerance that is the same for every scalar component, or given per component.
public enum ODETolerance: Sendable, Hashable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    /// One tolerance for all components.
    case scalar(Double)
    /// One tolerance per scalar component, in the order the error norm numbers them.
    case perComponent([Double])

    public init(floatLiteral value: Double) {
        self = .scalar(value)
    }

    public init(integerLiteral value: Int) {
        self = .scalar(Double(value))
    }

    /// The tolerance values: one entry for `.scalar`, else one per component.
    var values: [Double] {
        switch self {
        case .scalar(let value): [value]
        case .perComponent(let values): values
        }
    }
}

/// The norm applied to the scaled local error.
public enum ErrorNorm: Sendable, Hashable {
    /// Root mean square over all scalar components, as in SciPy, torchdiffeq and diffrax.
    case rms

    /// Root mean square over the components outside the given ranges of scalar indices.
    ///
    /// The adjoint method integrates `(z, a, dL/dθ)` and can leave the parameter-gradient
    /// channels out of step-size control. The other channels do not depend on them, so their
    /// local errors do not feed back into the solution (Kidger, Chen & Lyons, "Hey, that's not
    /// an ODE", ICML 2021). Indices count components in the order in which the state's
    /// ``ODEState/accumulateError(_:previous:proposal:into:)`` reports them.
    case seminorm(excludedComponents: [Range<Int>])
}

/// The step-size controller of the adaptive Runge–Kutta methods. Adams–Bashforth–Moulton reads
/// only ``safetyFactor`` and ``minimumFactor``.
///
/// With `ε_n` the error norm of the current step, `ε_{n-1}` that of the previous accepted step
/// and `k` the error estimator's order plus one, an accepted step proposes
///
/// ```
/// h_next = h * clamp(safety * ε_n^(-(kI + kP)/k) * ε_{n-1}^(kP/k), minimumFactorAfterAcceptance, maximumFactor)
/// ```
///
/// where `kI` is ``integralGain`` and `kP` is ``proportionalGain``. A rejected step shrinks by
/// `max(minimumFactor, safety * ε_n^(-(kI + kP)/k))`. With `kI = 1, kP = 0` this is the
/// classical (integral) controller of SciPy. ``nonShrinking`` keeps an accepted step from
/// shrinking the next one (`minimumFactorAfterAcceptance = 1`), as torchdiffeq and diffrax do.
/// ``proportionalIntegral`` is the PI controller of Hairer's DOPRI5 code.
public struct StepSizeController: Sendable, Hashable {
    /// Factor below 1 applied to every proposed step. Default 0.9.
    public var safetyFactor: Double
    /// Smallest factor by which a rejected step shrinks the step size. Default 0.2.
    public var minimumFactor: Double
    /// Smallest factor from an accepted step to the next one. Default 0.2, as in SciPy and
    /// Hairer's codes. With 1, as in torchdiffeq and diffrax, an accepted step is not followed
    /// by a smaller one, unless it was cut short to land on an end or jump time.
    public var minimumFactorAfterAcceptance: Double
    /// Largest factor by which one step may grow the step size. Default 10.
    public var maximumFactor: Double
    /// Integral gain `kI`; 1 for the classical controller.
    public var integralGain: Double
    /// Proportional gain `kP`; 0 for the classical controller.
    public var proportionalGain: Double
    /// When true, the step accepted right after a rejection may not grow (factor at most 1),
    /// as in SciPy and Hairer's codes. Default true.
    public var limitsGrowthAfterRejection: Bool

    /// Creates a controller; the defaults are those of ``integral``.
    public init(
        safetyFactor: Double = 0.9,
        minimumFactor: Double = 0.2,
        minimumFactorAfterAcceptance: Double = 0.2,
        maximumFactor: Double = 10,
        integralGain: Double = 1,
        proportionalGain: Double = 0,
        limitsGrowthAfterRejection: Bool = true
    ) {
        self.safetyFactor = safetyFactor
        self.minimumFactor = minimumFactor
        self.minimumFactorAfterAcceptance = minimumFactorAfterAcceptance
        self.maximumFactor = maximumFactor
        self.integralGain = integralGain
        self.proportionalGain = proportionalGain
        self.limitsGrowthAfterRejection = limitsGrowthAfterRejection
    }

    /// The classical integral controller with SciPy's constants (safety 0.9, factors in
    /// `[0.2, 10]`, no growth right after a rejection); the default.
    public static let integral = StepSizeController()

    /// The integral controller with the rule of torchdiffeq and diffrax: as ``integral``, but an
    /// accepted step is not followed by a smaller one, unless it was cut short to land on an end
    /// or jump time. Steps stay closer to the tolerance, so some solves need fewer steps and
    /// others more rejections. docs/solvers.md compares the two.
    public static let nonShrinking = StepSizeController(minimumFactorAfterAcceptance: 1)

    /// A PI controller whose exponents for a fifth-order pair (`k = 5`) are those of Hairer's
    /// DOPRI5 code with its default β = 0.04: `0.2 - 0.75 β = 0.17` on the current error and
    /// `β = 0.04` on the previous one.
    public static let proportionalIntegral = StepSizeController(
        integralGain: 0.65, proportionalGain: 0.2)
}

/// The steps of a fixed-step method.
public enum FixedStepGrid: Sendable, Hashable {
    /// One step between consecutive output times (torchdiffeq's behavior without `step_size`).
    case outputTimes

    /// Steps of this size from the first time, with the last step ending exactly on the last
    /// time. Grid points within `1e-9` of a step of an output time snap onto it, so such outputs
    /// come from a step rather than from interpolation.
    case stepSize(Double)

    /// An explicit grid, strictly monotonic in the direction of the output times, that starts
    /// on the first output time and ends on the last.
    case times([Double])
}

/// Progress of a solve after one accepted step.
public struct ODEStepReport: Sendable, Hashable {
    /// Time at the end of the accepted step.
    public let time: Double
    /// Signed size of the accepted step.
    public let stepSize: Double
    /// Order of the step: the method's order, or the current order of Adams–Bashforth–Moulton.
    public let order: Int
    /// Function evaluations and steps so far.
    public let statistics: ODEStatistics

    @usableFromInline
    init(time: Double, stepSize: Double, order: Int, statistics: ODEStatistics) {
        self.time = time
        self.stepSize = stepSize
        self.order = order
        self.statistics = statistics
    }
}
