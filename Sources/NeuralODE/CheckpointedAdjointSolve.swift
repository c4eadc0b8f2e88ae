import ODESolvers
import TensorEngine

/// The adjoint computed segment by segment from states stored during the forward solve.
///
/// The forward solve runs without recording, steps exactly onto every output time (they are
/// passed as jump times) and keeps the state after every accepted step. The boundaries of the
/// backward segments are the output times and every `stepsPerCheckpoint`-th accepted step.
/// Going backwards, each segment is re-run from its stored start with recording on, taking
/// the same steps with the same tableau on a fixed grid, and one vector-Jacobian product
/// carries the adjoint `a` and the parameter gradients across it. The result is the gradient
/// of the discretised solution, like backpropagation, with memory for the checkpoints plus
/// one segment's operations (the approach of Zhuang et al., "Adaptive checkpoint adjoint
/// method for gradient estimation in neural ODE", ICML 2020).
struct CheckpointedAdjointSolve<Scalar: TensorScalar> {
    let dynamics: (Double, [Tensor<Scalar>]) -> [Tensor<Scalar>]
    let initialState: [Tensor<Scalar>]
    let times: [Double]
    let timesTensor: Tensor<Scalar>?
    let method: ODEMethod
    let options: ODESolverOptions
    let stepsPerCheckpoint: Int
    let parameters: [Tensor<Scalar>]

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func run() throws(ODESolveError) -> NeuralODESolution<Scalar> {
        guard let tableau = method.tableau else {
            throw ODESolveError.invalidOption(
                name: "gradient", value: "checkpointedAdjoint with \(method.name)",
                expected: "a Runge–Kutta method; use .adjoint or .backpropagation with Adams")
        }
        guard stepsPerCheckpoint >= 1 else {
            throw ODESolveError.invalidOption(
                name: "stepsPerCheckpoint", value: "\(stepsPerCheckpoint)", expected: "at least 1")
        }
        let layout = StateLayout(initialState)
        let start = layout.packed(initialState.map { $0.detached() })

        var forwardOptions = options
        forwardOptions.recordsAcceptedStates = true
        if times.count > 2 {
            forwardOptions.jumpTimes = (options.jumpTimes + times[1..<(times.count - 1)]).sorted {
                times[1] > times[0] ? $0 < $1 : $0 > $1
            }
            forwardOptions.jumpTimes = uniqued(forwardOptions.jumpTimes)
        }
        let previousMode = GradientMode.isEnabled
        GradientMode.isEnabled = false
        defer { GradientMode.isEnabled = previousMode }
        let forward = try ODESolvers.odeint(
            layout.packedDynamics(dynamics), start, at: times, method: method, options: forwardOptions)
        GradientMode.isEnabled = previousMode

        let checkpoints = [(time: times[0], state: start)] + forward.acceptedStates
        let forwardStates = forward.states
        let stepper = fixedGridMethod(tableau)
        let backward = self
        return recordedSolution(
            "solveODE checkpointed adjoint", forwardStates: forwardStates,
            statistics: forward.statistics, layout: layout, initialState: initialState,
            parameters: parameters, timesTensor: timesTensor
        ) { cotangent, record in
            withoutGradients {
                do {
                    return try backward.solveBackwards(
                        cotangent, checkpoints: checkpoints, forwardStates: forwardStates,
                        layout: layout, record: record, method: stepper)
                } catch {
                    return failedPullback(
                        error, record: record, layout: layout, parameters: backward.parameters,
                        timesTensor: backward.timesTensor)
                }
            }
        }
    }

    /// The same tableau without its error estimate, so that a solve takes exactly the steps
    /// of a given grid.
    private func fixedGridMethod(_ tableau: ButcherTableau) -> ODEMethod {
        .explicitRungeKutta(
            ButcherTableau(
                name: tableau.name, order: tableau.order, nodes: tableau.nodes,
                stageCoefficients: tableau.stageCoefficients, weights: tableau.weights))
    }

    private func solveBackwards(
        _ cotangent: Tensor<Scalar>, checkpoints: [(time: Double, state: Tensor<Scalar>)],
        forwardStates: [Tensor<Scalar>], layout: StateLayout, record: BackwardRecord,
        method fixedMethod: ODEMethod
    ) throws(ODESolveError) -> [Tensor<Scalar>?] {
        // Index of the checkpoint at each output time, and the segment boundaries.
        var outputAt: [Int: Int] = [:]
        var nextOutput = 0
        for (index, checkpoint) in checkpoints.enumerated()
        where nextOutput < times.count && checkpoint.time == times[nextOutput] {
            outputAt[index] = nextOutput
            nextOutput += 1
        }
        precondition(
            nextOutput == times.count,
            "solveODE(gradient: .checkpointedAdjoint): the forward solve did not step onto output time \(nextOutput < times.count ? times[nextOutput] : .nan)")
        var boundaries: [Int] = []
        for index in checkpoints.indices
        where outputAt[index] != nil || index % stepsPerCheckpoint == 0 {
            boundaries.append(index)
        }

        let wantsTimeGradient = timesTensor?.requiresGradient ?? false
        var timeGradients = [Scalar](repeating: 0, count: times.count)
        var adjoint = layout.unpack(cotangent, row: times.count - 1)
        var parameterGradients = parameters.map { Tensor<Scalar>(zeros: $0.shape) }
        if wantsTimeGradient {
            for i in 1..<times.count {
                let derivative = dynamics(times[i], layout.parts(of: forwardStates[i]))
                timeGradients[i] = Scalar(dotProduct(derivative, layout.unpack(cotangent, row: i)))
            }
        }

        for segment in stride(from: boundaries.count - 1, to: 0, by: -1) {
            let first = boundaries[segment - 1]
            let last = boundaries[segment]
            let grid = checkpoints[first...last].map(\.time)
            let start = layout.parts(of: checkpoints[first].state).map { $0.detached().requiringGradient() }
            var fixedOptions = ODESolverOptions()
            fixedOptions.fixedGrid = .times(grid)
            // Re-run the segment with recording on; the pullback runs with it off.
            GradientMode.isEnabled = true
            let end: [Tensor<Scalar>]
            let statistics: ODEStatistics
            do {
                let interval = [grid[0], grid[grid.count - 1]]
                if layout.isSinglePart {
                    // One tensor as the state: one recorded combination per stage.
                    let solution = try ODESolvers.odeint(
                        layout.packedDynamics(dynamics), start[0], at: interval, method: fixedMethod,
                        options: fixedOptions)
                    (end, statistics) = ([solution.states[1]], solution.statistics)
                } else {
                    let solution = try ODESolvers.odeint(
                        dynamics, start, at: interval, method: fixedMethod, options: fixedOptions)
                    (end, statistics) = (solution.states[1], solution.statistics)
                }
            } catch {
                GradientMode.isEnabled = false
                throw error
            }
            GradientMode.isEnabled = false
            let products = gradients(of: end, withRespectTo: start + parameters, seeds: adjoint)
            let evaluations = statistics.functionEvaluations
            record.statistics.functionEvaluations += evaluations
            record.statistics.acceptedSteps += grid.count - 1
            adjoint = Array(products[0..<start.count])
            for (index, gradient) in products[start.count...].enumerated() {
                parameterGradients[index] = parameterGradients[index] + gradient
            }
            if let output = outputAt[first] {
                if output == 0 && wantsTimeGradient {
                    let derivative = dynamics(times[0], layout.parts(of: forwardStates[0]))
                    timeGradients[0] = Scalar(-dotProduct(adjoint, derivative))
                }
                let outputCotangent = layout.unpack(cotangent, row: output)
                adjoint = zip(adjoint, outputCotangent).map { $0 + $1 }
            }
        }

        var result: [Tensor<Scalar>?] = [layout.flatten(adjoint)]
        result += parameterGradients.map { Optional($0) }
        if let timesTensor {
            result.append(wantsTimeGradient ? Tensor(shape: timesTensor.shape, scalars: timeGradients) : nil)
        }
        return result
    }
}

/// The values of a sorted list without adjacent repeats.
private func uniqued(_ values: [Double]) -> [Double] {
    var result: [Double] = []
    for value in values where result.last != value { result.append(value) }
    return result
}
