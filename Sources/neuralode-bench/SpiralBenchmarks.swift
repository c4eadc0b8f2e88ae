import Experiments
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

extension BenchmarkArea {
    /// The `spiral_train_*` rows of torchdiffeq_bench.py and diffrax_bench.py.
    static let spiral = BenchmarkArea(
        name: "spiral",
        summary: "one spiral-demo training iteration on the reference batch, backpropagation and adjoint",
        run: runSpiralBenchmarks)
}

/// One training iteration as the reference scripts define it. It solves the 2-50-2 tanh network
/// on `y³` with dopri5 over the 10 window times, takes the mean absolute error against the
/// targets and its gradient for the 4 parameter tensors, and makes one RMSprop step.
private final class SpiralIteration {
    let model: SpiralDynamics
    /// The model's parameter tensors, listed once: the optimizer updates them in place.
    let parameters: [Tensor<Float>]
    let optimizer: RMSprop<Float>
    let workloads: ReferenceWorkloads
    let gradient: GradientMethod
    let options: ODESolverOptions

    init(workloads: ReferenceWorkloads, gradient: GradientMethod) {
        self.workloads = workloads
        self.gradient = gradient
        var generator = RandomGenerator(seed: 0)
        model = SpiralDynamics(hiddenUnits: 50, generator: &generator)
        let layers = [model.hidden, model.output]
        for (layer, initial) in zip(layers, workloads.spiralLayers) {
            layer.weight.assign(initial.weight)
            layer.bias!.assign(initial.bias)
        }
        parameters = model.parameters
        // PyTorch's RMSprop defaults, as in the reference scripts: alpha 0.99, eps 1e-8.
        optimizer = RMSprop(
            parameters: model.namedParameters, learningRate: workloads.spiralLearningRate,
            alpha: 0.99, epsilon: 1e-8)
        options = ODESolverOptions(
            relativeTolerance: .scalar(workloads.spiralRelativeTolerance),
            absoluteTolerance: .scalar(workloads.spiralAbsoluteTolerance))
    }

    /// Runs one iteration and returns the loss and the forward and backward evaluations.
    func run() -> (loss: Double, forward: Int, backward: Int) {
        do {
            let solution = try solveODE(
                model.callAsFunction, workloads.spiralInitialStates, at: workloads.spiralTimes,
                options: options, gradient: gradient, parameters: parameters)
            let loss = (solution.trajectory - workloads.spiralTargets).abs().mean()
            let parameterGradients = gradients(of: loss, withRespectTo: parameters)
            try solution.backward.check()
            optimizer.step(gradients: parameterGradients)
            return (
                Double(loss.scalar), solution.statistics.functionEvaluations,
                solution.backward.statistics.functionEvaluations
            )
        } catch {
            fail("spiral iteration: \(error)")
        }
    }
}

private func runSpiralBenchmarks(_ context: BenchmarkContext) {
    let workloads = ReferenceWorkloads.shared
    runSpiralFieldBenchmarks(context, workloads: workloads)
    let variants = trainingGradientVariants(prefix: "spiral", adjointSuffix: "adjoint")
    // As in the reference scripts: training continues across iterations from the initial
    // weights, 5 warm-up iterations (2 with --quick), then one iteration per timed sample.
    let warmup = context.quick ? 2 : 5
    let repeats = context.repeatsOverride ?? (context.quick ? 10 : 50)
    for variant in variants where context.wants(variant.name) {
        let iteration = SpiralIteration(workloads: workloads, gradient: variant.gradient)
        let times = timeTrainingIterations(warmup: warmup, repeats: repeats, iteration.run)
        var record = times.makeRecord(name: variant.name, size: workloads.spiralInitialStates.shape[0])
        record.add("method", .string(variant.method))
        record.add("warmup", .int(warmup))
        times.addEvaluations(to: &record, firstLabel: "iter0")
        record.add("rtol", .double(workloads.spiralRelativeTolerance))
        record.add("atol", .double(workloads.spiralAbsoluteTolerance))
        record.note = times.evaluationNote
        context.report(record)
    }
}

/// Times one evaluation of the spiral model on the reference batch without recording, and one
/// recorded evaluation with the vector-Jacobian product that every evaluation of the adjoint's
/// backward solve computes. These are the per-evaluation parts of `spiral_train_*`, with no
/// reference rows.
private func runSpiralFieldBenchmarks(_ context: BenchmarkContext, workloads: ReferenceWorkloads) {
    let iteration = SpiralIteration(workloads: workloads, gradient: .adjoint)
    let model = iteration.model
    let parameters = iteration.parameters
    let state = workloads.spiralInitialStates
    let batch = state.shape[0]
    let repeats = context.quick ? 7 : 30
    if context.wants("spiral_field_forward") {
        let times = withoutGradients {
            timeCalls(warmup: 5, repeats: repeats, callsPerSample: 16) { blackHole(model(0, state)) }
        }
        var record = BenchmarkRecord(name: "spiral_field_forward", size: batch, samples: times.samples)
        times.annotate(&record)
        record.add(
            "shape", .string("one evaluation of the 2-50-2 tanh model on y³, y [20, 2], no recording"))
        context.report(record)
    }
    if context.wants("spiral_field_vjp") {
        let seed = Tensor<Float>(ones: state.shape)
        let times = timeCalls(warmup: 5, repeats: repeats, callsPerSample: 16) {
            let z = Tensor<Float>(shape: state.shape, scalars: state.scalars).requiringGradient()
            let derivative = model(0, z)
            blackHole(gradients(of: derivative, withRespectTo: [z] + parameters, seed: seed))
        }
        var record = BenchmarkRecord(name: "spiral_field_vjp", size: batch, samples: times.samples)
        times.annotate(&record)
        record.add(
            "shape",
            .string(
                "recorded evaluation on y [20, 2] and its vector-Jacobian product for y and the "
                    + "4 parameters"))
        context.report(record)
    }
}
