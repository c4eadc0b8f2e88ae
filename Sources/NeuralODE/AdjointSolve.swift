import ODESolvers
import TensorEngine

/// The adjoint sensitivity method: a forward solve with nothing recorded, and a pullback that
/// solves the augmented system backwards in time.
///
/// For `dz/dt = f(t, z, θ)` and a loss `L` of the outputs `z(t_i)`, the adjoint `a = ∂L/∂z(t)`
/// obeys `da/dt = -aᵀ ∂f/∂z`, and `∂L/∂θ = ∫ aᵀ ∂f/∂θ dt` over the interval (Chen et al.,
/// "Neural Ordinary Differential Equations", NeurIPS 2018, Section 2 and Appendix B). One
/// backward solve of `(z, a, ∂L/∂θ)` runs between each pair of consecutive output times. At
/// each output time `z` is reset to the forward value and the loss's own gradient `g_i` is
/// added to `a`. Gradients with respect to the times follow without another solve:
/// `∂L/∂t_i = g_i · f(t_i, z(t_i))` for `i ≥ 1`, and `∂L/∂t_0 = -a(t_0) · f(t_0, z(t_0))` with
/// `a(t_0)` taken before `g_0` is added, because moving `t_0` shifts the whole trajectory.
struct AdjointSolve<Scalar: TensorScalar> {
    let dynamics: (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>]
    let initialState: [Tensor<Scalar>]
    let times: [Double]
    let timesTensor: Tensor<Scalar>?
    let method: ODEMethod
    let options: ODESolverOptions
    let adjointOptions: AdjointOptions
    let parameters: [Tensor<Scalar>]

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func run() throws(ODESolveError) -> NeuralODESolution<Scalar> {
        let layout = StateLayout(initialState)
        let start = layout.packed(initialState.map { $0.detached() })

        let previousMode = GradientMode.isEnabled
        GradientMode.isEnabled = false
        defer { GradientMode.isEnabled = previousMode }
        let forward = try ODESolvers.odeint(
            layout.packedDynamics(dynamics), start, at: times, method: method, options: options)
        GradientMode.isEnabled = previousMode

        let forwardStates = forward.states
        let backward = self
        return recordedSolution(
            "solveODE adjoint", forwardStates: forwardStates, statistics: forward.statistics,
            layout: layout, initialState: initialState, parameters: parameters,
            timesTensor: timesTensor
        ) { cotangent, record in
            backward.pullback(cotangent, forwardStates: forwardStates, layout: layout, record: record)
        }
    }

    /// Maps the cotangent of the packed output `[times, totalCount]` to cotangents of the
    /// packed initial state, each parameter and the times tensor.
    func pullback(
        _ cotangent: Tensor<Scalar>, forwardStates: [Tensor<Scalar>], layout: StateLayout,
        record: BackwardRecord
    ) -> [Tensor<Scalar>?] {
        withoutGradients {
            do {
                return try solveBackwards(
                    cotangent, forwardStates: forwardStates, layout: layout, record: record)
            } catch {
                return failedPullback(
                    error, record: record, layout: layout, parameters: parameters, timesTensor: timesTensor)
            }
        }
    }

    /// Solves the augmented system `(z, a, ∂L/∂θ)` backwards between consecutive output times.
    ///
    /// The augmented state is one vector `[z | a | ∂L/∂θ]` of `2 n + P` values, with `n` the
    /// state's and `P` the parameters' scalar count, so each Runge–Kutta stage is one fused pass.
    private func solveBackwards(
        _ cotangent: Tensor<Scalar>, forwardStates: [Tensor<Scalar>], layout: StateLayout,
        record: BackwardRecord
    ) throws(ODESolveError) -> [Tensor<Scalar>?] {
        let last = times.count - 1
        let stateCount = layout.totalCount
        let parameterCount = parameters.reduce(0) { $0 + $1.scalarCount }
        let wantsTimeGradient = timesTensor?.requiresGradient ?? false
        var timeGradients = [Scalar](repeating: 0, count: times.count)
        var adjoint = layout.row(cotangent, last)
        var parameterGradients = Tensor<Scalar>(zeros: [parameterCount])

        let backwardMethod = adjointOptions.method ?? method
        var backwardOptions = augmentedOptions(layout: layout)
        let augmented = AugmentedDynamics(dynamics: dynamics, parameters: parameters, layout: layout)

        for i in stride(from: last, to: 0, by: -1) {
            if wantsTimeGradient {
                let derivative = dynamics(times[i], layout.parts(of: forwardStates[i]))
                timeGradients[i] = Scalar(dotProduct(derivative, layout.unpack(cotangent, row: i)))
            }
            let state = joinedVector([forwardStates[i], adjoint, parameterGradients])
            let solution = try ODESolvers.odeint(
                augmented.callAsFunction, state, at: [times[i], times[i - 1]],
                method: backwardMethod, options: backwardOptions)
            record.statistics.functionEvaluations += solution.statistics.functionEvaluations
            record.statistics.acceptedSteps += solution.statistics.acceptedSteps
            record.statistics.rejectedSteps += solution.statistics.rejectedSteps
            // The next interval starts where this one ended, so it continues with the step size
            // the controller proposed instead of selecting a first step again (two evaluations).
            backwardOptions.initialStepSize = solution.nextStepSize

            let end = solution.states[1]
            adjoint = copiedValues(end, from: stateCount, count: stateCount)
            parameterGradients = copiedValues(end, from: 2 * stateCount, count: parameterCount)
            if i - 1 == 0 && wantsTimeGradient {
                let derivative = dynamics(times[0], layout.parts(of: forwardStates[0]))
                timeGradients[0] = Scalar(-dotProduct(layout.unpack(adjoint, row: 0), derivative))
            }
            // a(t_{i-1}) gains the loss's own gradient at that output.
            adjoint.withUnsafeMutableBufferPointer { values in
                cotangent.withUnsafeBufferPointer { gradients in
                    let row = gradients.baseAddress! + (i - 1) * stateCount
                    for j in 0..<stateCount { values[j] += row[j] }
                }
            }
        }

        var result: [Tensor<Scalar>?] = [adjoint]
        var offset = 0
        for parameter in parameters {
            result.append(
                copiedValues(
                    parameterGradients, from: offset, count: parameter.scalarCount,
                    shape: parameter.shape))
            offset += parameter.scalarCount
        }
        if let timesTensor {
            result.append(wantsTimeGradient ? Tensor(shape: timesTensor.shape, scalars: timeGradients) : nil)
        }
        return result
    }

    /// Options of the backward solve: the adjoint's own method, tolerances and step limit, and
    /// the seminorm that leaves the parameter-gradient channels out of the error estimate.
    private func augmentedOptions(layout: StateLayout) -> ODESolverOptions {
        var backward = options
        if let relative = adjointOptions.relativeTolerance { backward.relativeTolerance = .scalar(relative) }
        if let absolute = adjointOptions.absoluteTolerance { backward.absoluteTolerance = .scalar(absolute) }
        if let steps = adjointOptions.maximumSteps { backward.maximumSteps = steps }
        // Per-component forward tolerances cover z; a gets the same, ∂L/∂θ the tightest one.
        let parameterCount = parameters.reduce(0) { $0 + $1.scalarCount }
        backward.relativeTolerance = extended(backward.relativeTolerance, parameterCount: parameterCount)
        backward.absoluteTolerance = extended(backward.absoluteTolerance, parameterCount: parameterCount)
        if adjointOptions.usesSeminorm && parameterCount > 0 {
            let first = 2 * layout.totalCount
            backward.errorNorm = .seminorm(excludedComponents: [first..<(first + parameterCount)])
        }
        backward.initialStepSize = nil
        backward.jumpTimes = options.jumpTimes
        backward.stepObserver = nil
        return backward
    }

    private func extended(_ tolerance: ODETolerance, parameterCount: Int) -> ODETolerance {
        switch tolerance {
        case .scalar:
            return tolerance
        case .perComponent(let values):
            let tightest = values.min() ?? 0
            return .perComponent(values + values + [Double](repeating: tightest, count: parameterCount))
        }
    }
}

/// The right-hand side of the augmented system `[z | a | ∂L/∂θ]`:
/// `[f(t, z) | -aᵀ ∂f/∂z | -aᵀ ∂f/∂θ]`, with the vector-Jacobian products from one recorded
/// evaluation of `f`.
struct AugmentedDynamics<Scalar: TensorScalar> {
    let dynamics: (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>]
    let parameters: [Tensor<Scalar>]
    let layout: StateLayout
    /// Set after the first evaluation has checked that every leaf the dynamics read is listed.
    private let checked = CheckOnce()

    init(
        dynamics: @escaping (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>],
        parameters: [Tensor<Scalar>], layout: StateLayout
    ) {
        self.dynamics = dynamics
        self.parameters = parameters
        self.layout = layout
    }

    func callAsFunction(_ t: Double, _ state: Tensor<Scalar>) -> Tensor<Scalar> {
        let stateCount = layout.totalCount
        var z: [Tensor<Scalar>] = []
        var adjoint: [Tensor<Scalar>] = []
        z.reserveCapacity(layout.shapes.count + parameters.count)
        adjoint.reserveCapacity(layout.shapes.count)
        for part in layout.shapes.indices {
            z.append(
                copiedValues(
                    state, from: layout.offsets[part], count: layout.counts[part],
                    shape: layout.shapes[part]))
            adjoint.append(
                copiedValues(
                    state, from: stateCount + layout.offsets[part], count: layout.counts[part],
                    shape: layout.shapes[part]))
        }
        for tensor in z { tensor.requiringGradient() }
        let (derivative, products) = withGradientMode(enabled: true) {
            let derivative = dynamics(t, z)
            if !checked.done {
                checked.done = true
                checkParametersListed(derivative, z)
            }
            let products = gradients(of: derivative, withRespectTo: z + parameters, seeds: adjoint)
            return (derivative, products)
        }
        // [f | -(∂f/∂z)ᵀ a | -(∂f/∂θ)ᵀ a], in the order of the parts and then the parameters.
        return Tensor(shape: state.shape) { out in
            var offset = 0
            for part in derivative {
                part.withUnsafeBufferPointer { values in
                    if !values.isEmpty {
                        (out.baseAddress! + offset).update(from: values.baseAddress!, count: values.count)
                    }
                    offset += values.count
                }
            }
            for product in products {
                product.withUnsafeBufferPointer { values in
                    for j in values.indices { out[offset + j] = -values[j] }
                    offset += values.count
                }
            }
        }
    }

    private func checkParametersListed(_ derivative: [Tensor<Scalar>], _ z: [Tensor<Scalar>]) {
        let known = Set((z + parameters).map { ObjectIdentifier($0) })
        for leaf in recordedLeaves(of: derivative) where !known.contains(ObjectIdentifier(leaf)) {
            precondition(
                false,
                "solveODE(gradient: .adjoint): the dynamics read a tensor of shape \(leaf.shape) that requires gradients but is not in `parameters`; pass every trainable tensor the dynamics use (for a module, its parameter list)"
            )
        }
    }
}

/// Copies `count` values of `source` from `offset` into a new tensor of `shape` (default
/// `[count]`), without recording.
func copiedValues<Scalar>(
    _ source: Tensor<Scalar>, from offset: Int, count: Int, shape: [Int]? = nil
) -> Tensor<Scalar> {
    source.withUnsafeBufferPointer { values in
        Tensor(shape: shape ?? [count]) { out in
            if count > 0 { out.baseAddress!.update(from: values.baseAddress! + offset, count: count) }
        }
    }
}

/// Returns the values of `parts` end to end in one vector, without recording.
func joinedVector<Scalar>(_ parts: [Tensor<Scalar>]) -> Tensor<Scalar> {
    Tensor(shape: [parts.reduce(0) { $0 + $1.scalarCount }]) { out in
        var offset = 0
        for part in parts {
            part.withUnsafeBufferPointer { values in
                if !values.isEmpty {
                    (out.baseAddress! + offset).update(from: values.baseAddress!, count: values.count)
                }
                offset += values.count
            }
        }
    }
}

/// A flag shared by copies of a value type.
final class CheckOnce: @unchecked Sendable {
    var done = false
}

/// Packs the forward solution (packed states, see `StateLayout`) into one tensor
/// `[times, totalCount]`, records it as the output of an operation on the initial state, the
/// parameters and the times, and splits it into parts.
func recordedSolution<Scalar: TensorScalar>(
    _ name: StaticString, forwardStates: [Tensor<Scalar>], statistics: ODEStatistics,
    layout: StateLayout, initialState: [Tensor<Scalar>], parameters: [Tensor<Scalar>],
    timesTensor: Tensor<Scalar>?,
    pullback: @escaping (Tensor<Scalar>, BackwardRecord) -> [Tensor<Scalar>?]
) -> NeuralODESolution<Scalar> {
    let packed = layout.pack(rows: forwardStates)
    let record = BackwardRecord()
    var inputs = [layout.flatten(initialState)] + parameters
    if let timesTensor { inputs.append(timesTensor) }
    let output = Tensor.recordingCustomOperation(name, result: packed, inputs: inputs) { cotangent in
        pullback(cotangent, record)
    }
    return NeuralODESolution(states: layout.split(output), statistics: statistics, backward: record)
}

/// The cotangents of a backward pass that failed: NaN everywhere, with the error kept in
/// `record` for `check()`, because a pullback cannot throw.
func failedPullback<Scalar: TensorScalar>(
    _ error: any Error, record: BackwardRecord, layout: StateLayout, parameters: [Tensor<Scalar>],
    timesTensor: Tensor<Scalar>?
) -> [Tensor<Scalar>?] {
    if record.error == nil { record.error = error as? ODESolveError }
    let nan = Scalar.nan
    var result: [Tensor<Scalar>?] = [Tensor(repeating: nan, shape: [layout.totalCount])]
    result += parameters.map { Tensor(repeating: nan, shape: $0.shape) }
    if let timesTensor { result.append(Tensor(repeating: nan, shape: timesTensor.shape)) }
    return result
}
