import Foundation
import NeuralNetworks
import ODESolvers
import TensorEngine

/// A continuous normalizing flow: a density model that moves points of a base distribution
/// along `dz/dt = f(z, t)` from `startTime` to `endTime`, and tracks their log-density with
/// the instantaneous change of variables `d log p(z(t))/dt = -tr(∂f/∂z)` (Chen et al.,
/// "Neural Ordinary Differential Equations", NeurIPS 2018, Section 4).
///
/// The state is the two-part `(z [batch, d], Δ [batch, 1])`, solved together by the
/// multi-part `solveODE`; `Δ(t) = log p_t(z(t)) - log p_s(z(s))` for the start `s` of the
/// solve. Sampling integrates base points forward; density evaluation integrates data
/// backwards to `startTime`, where the base density is known:
///
/// ```
/// log p(x) = log p₀(z(t₀)) - Δ(t₀)    for a solve from t₁ (z = x, Δ = 0) back to t₀
/// ```
///
/// The base distribution is `N(0, σ² I)` with `σ = baseStandardDeviation`.
public final class ContinuousNormalizingFlow<Field: CNFVectorField> {
    public typealias Scalar = Field.Scalar

    public let field: Field
    /// The time of the base distribution.
    public var startTime: Double
    /// The time of the data distribution.
    public var endTime: Double
    public var traceEstimator: TraceEstimator
    public var method: ODEMethod
    public var options: ODESolverOptions
    /// The gradient method of every solve. The adjoint methods get `field.parameters`.
    public var gradient: GradientMethod
    /// The standard deviation `σ` of the base distribution `N(0, σ² I)`.
    public var baseStandardDeviation: Double
    /// The source of Hutchinson's probe vectors, drawn once per solve.
    public var noiseGenerator: RandomGenerator

    /// - Precondition: `startTime ≠ endTime`; `baseStandardDeviation > 0`; `closedForm`
    ///   only with a field that provides `valueAndTrace`.
    public init(
        field: Field, startTime: Double = 0, endTime: Double = 1, traceEstimator: TraceEstimator = .exact,
        method: ODEMethod = .dopri5, options: ODESolverOptions = ODESolverOptions(),
        gradient: GradientMethod = .adjoint, baseStandardDeviation: Double = 1, noiseSeed: UInt64 = 0
    ) {
        precondition(
            startTime != endTime && startTime.isFinite && endTime.isFinite,
            "ContinuousNormalizingFlow: startTime and endTime must be finite and differ, got \(startTime) and \(endTime)")
        precondition(
            baseStandardDeviation > 0 && baseStandardDeviation.isFinite,
            "ContinuousNormalizingFlow: baseStandardDeviation must be positive and finite, got \(baseStandardDeviation)")
        if traceEstimator == .closedForm {
            let probe = Tensor<Scalar>(zeros: [1, field.dimension])
            precondition(
                withoutGradients { field.valueAndTrace(startTime, probe) } != nil,
                "ContinuousNormalizingFlow: \(type(of: field)) has no closed-form trace; use .exact or .hutchinson")
        }
        self.field = field
        self.startTime = startTime
        self.endTime = endTime
        self.traceEstimator = traceEstimator
        self.method = method
        self.options = options
        self.gradient = gradient
        self.baseStandardDeviation = baseStandardDeviation
        noiseGenerator = RandomGenerator(seed: noiseSeed)
    }

    // MARK: - Dynamics

    /// The right-hand side `(f(z, t), -tr(∂f/∂z))` of the two-part state `(z, Δ)`.
    ///
    /// With recording on, the trace is built with `createGraph`, so that gradients (the
    /// adjoint's vector-Jacobian products, or backpropagation through the solver) reach the
    /// parameters through it. This is where second derivatives enter. The vector-Jacobian
    /// products of the trace run on a fresh copy of `z`, and one recorded operation
    /// ("cnf dynamics") joins the result back to `z` and the parameters, so that the products
    /// never walk the recorded history of the solve behind `z`. With recording off, as in the
    /// forward solve of the adjoint method, nothing outlives the call.
    ///
    /// - Parameter noise: Hutchinson's probe vectors `[batch, d]`; required by
    ///   `.hutchinson`, ignored otherwise.
    public func augmentedDynamics(noise: Tensor<Scalar>? = nil) -> (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        let field = self.field
        let estimator = traceEstimator
        let parameters = field.parameters
        if case .hutchinson = estimator {
            precondition(noise != nil, "ContinuousNormalizingFlow.augmentedDynamics: .hutchinson needs noise")
        }
        return { t, state in
            let z = state[0]
            if estimator == .closedForm {
                let (value, trace) = field.valueAndTrace(t, z)!
                return [value, -trace]
            }
            if GradientMode.isEnabled {
                return Self.recordedDynamics(
                    field, t, z, parameters: parameters, estimator: estimator, noise: noise)
            }
            return withGradientMode(enabled: true) {
                let input = z.detached().requiringGradient()
                let value = field.valueWithConstantParameters(t, input)
                let trace = Self.trace(value, input, estimator: estimator, noise: noise, createGraph: false)
                return [value.detached(), (-trace).detached()]
            }
        }
    }

    /// `(f, -tr)` recorded as one operation of `z` and the parameters, whose pullback is a
    /// vector-Jacobian product through the trace's own recorded graph.
    private static func recordedDynamics(
        _ field: Field, _ t: Double, _ z: Tensor<Scalar>, parameters: [Tensor<Scalar>],
        estimator: TraceEstimator, noise: Tensor<Scalar>?
    ) -> [Tensor<Scalar>] {
        let input = z.detached().requiringGradient()
        let value = field(t, input)
        let trace = Self.trace(value, input, estimator: estimator, noise: noise, createGraph: true)
        let packed = Tensor.concatenated([value, -trace], alongAxis: 1)
        let output = Tensor.recordingCustomOperation(
            "cnf dynamics", result: packed.detached(), inputs: [z] + parameters
        ) { cotangent in
            gradients(
                of: packed, withRespectTo: [input] + parameters, seed: cotangent,
                createGraph: GradientMode.isEnabled)
        }
        let dimension = z.shape[1]
        return [
            output.slice(alongAxis: 1, 0..<dimension),
            output.slice(alongAxis: 1, dimension..<(dimension + 1)),
        ]
    }

    private static func trace(
        _ value: Tensor<Scalar>, _ input: Tensor<Scalar>, estimator: TraceEstimator, noise: Tensor<Scalar>?,
        createGraph: Bool
    ) -> Tensor<Scalar> {
        switch estimator {
        case .exact, .closedForm:
            return exactJacobianTrace(of: value, withRespectTo: input, createGraph: createGraph)
        case .hutchinson:
            return hutchinsonTraceEstimate(of: value, withRespectTo: input, noise: noise!, createGraph: createGraph)
        }
    }

    // MARK: - Transport

    /// Moves the points `z` along the flow from `times[0]` through every time in `times`,
    /// and returns where they are and how their log-density changed.
    ///
    /// - Parameters:
    ///   - z: The points at `times[0]`, shape `[batch, d]`.
    ///   - times: Strictly monotonic times, forward or backward.
    /// - Returns: The transport; differentiable with respect to `z` and the field's
    ///   parameters by `gradient`.
    /// - Throws: `ODESolveError` when the solve fails.
    public func transport(_ z: Tensor<Scalar>, at times: [Double]) throws(ODESolveError) -> CNFTransport<Scalar> {
        precondition(
            z.rank == 2 && z.shape[1] == field.dimension,
            "ContinuousNormalizingFlow: points must have shape [batch, \(field.dimension)], got \(z.shape)")
        var noise: Tensor<Scalar>?
        if case .hutchinson(let kind) = traceEstimator {
            noise = kind.sample(shape: z.shape, generator: &noiseGenerator)
        }
        let initialChange = Tensor<Scalar>(zeros: [z.shape[0], 1])
        let solution = try solveODE(
            augmentedDynamics(noise: noise), [z, initialChange], at: times, method: method, options: options,
            gradient: gradient, parameters: field.parameters)
        return CNFTransport(times: times, solution: solution)
    }

    /// Evaluates the log-density of the data points `x` at `endTime` by integrating them back
    /// to `startTime`.
    ///
    /// - Parameter x: Points `[batch, d]`.
    /// - Returns: `log p(x)` of shape `[batch]`, and the transport for its statistics.
    public func logDensity(of x: Tensor<Scalar>) throws(ODESolveError)
        -> (logDensity: Tensor<Scalar>, transport: CNFTransport<Scalar>)
    {
        let transport = try transport(x, at: [endTime, startTime])
        let logDensity = baseLogDensity(transport.finalPoints) - transport.finalLogDensityChange
        return (logDensity, transport)
    }

    /// Pushes base points `z` forward from `startTime` to `endTime`.
    ///
    /// - Parameters:
    ///   - z: Points of the base distribution `[batch, d]`, such as `sampleBase(count:…)`.
    ///   - times: Increasing times from `startTime` to `endTime`; default: the two ends.
    /// - Returns: The samples `x = z(endTime)`, their log-density `log q(x)` of shape
    ///   `[batch]`, and the transport with the points at every time.
    public func sample(from z: Tensor<Scalar>, at times: [Double]? = nil) throws(ODESolveError)
        -> (samples: Tensor<Scalar>, logDensity: Tensor<Scalar>, transport: CNFTransport<Scalar>)
    {
        let times = times ?? [startTime, endTime]
        precondition(
            times.first == startTime && times.last == endTime,
            "ContinuousNormalizingFlow.sample: times must run from startTime \(startTime) to endTime \(endTime), got \(times)")
        let transport = try transport(z, at: times)
        let logDensity = baseLogDensity(z) + transport.finalLogDensityChange
        return (transport.finalPoints, logDensity, transport)
    }

    /// Draws `count` points of the base distribution `N(0, σ² I)`, shape `[count, d]`.
    public func sampleBase(count: Int, generator: inout RandomGenerator) -> Tensor<Scalar> {
        Tensor(
            randomNormal: [count, field.dimension], standardDeviation: Scalar(baseStandardDeviation),
            generator: &generator)
    }

    /// Returns the log-density of the base distribution at each point of `z` `[batch, d]`,
    /// shape `[batch]`: `-(d/2) log(2πσ²) - ‖z‖²/(2σ²)`.
    public func baseLogDensity(_ z: Tensor<Scalar>) -> Tensor<Scalar> {
        let variance = baseStandardDeviation * baseStandardDeviation
        let constant = -0.5 * Double(field.dimension) * Foundation.log(2 * Double.pi * variance)
        return z.squared().sum(alongAxis: 1) * Scalar(-0.5 / variance) + Scalar(constant)
    }
}

/// Points moved along a continuous normalizing flow, with the change of their log-density.
public struct CNFTransport<Scalar: TensorScalar> {
    /// The output times of the solve; the first is where the points started.
    public let times: [Double]
    /// The solution of the two-part state: `states[0]` is the points `[times, batch, d]`,
    /// `states[1]` the log-density changes `[times, batch, 1]`. It also contains the forward
    /// statistics and, after gradients ran, the backward ones.
    public let solution: NeuralODESolution<Scalar>

    /// The points at every output time, `[times, batch, d]`.
    public var points: Tensor<Scalar> { solution.states[0] }
    /// `log p_t(z(t)) - log p(z(times[0]))` at every output time, `[times, batch]`.
    public var logDensityChanges: Tensor<Scalar> { solution.states[1].squeezingShape(at: [2]) }
    /// The points at the last output time, `[batch, d]`.
    public var finalPoints: Tensor<Scalar> { solution.states[0].selecting(index: -1) }
    /// The log-density change at the last output time, `[batch]`.
    public var finalLogDensityChange: Tensor<Scalar> {
        solution.states[1].selecting(index: -1).squeezingShape(at: [1])
    }
}
