import Experiments
import Foundation
import NeuralODE
import ODESolvers

/// `neuralode demo`: learns the dynamics of a spiral with the adjoint method.
enum DemoCommand: Command {
    static let name = "demo"
    static let summary = """
        Learn the dynamics dy/dt = y³A of a 2-D spiral from short windows of its trajectory \
        with a neural ODE trained by the adjoint method; prints progress and writes pictures \
        of the true and learned trajectories and phase portraits.
        """
    static let options: [OptionSpecification] = [
        .value("iterations", "N", help: "training iterations", default: "2000"),
        .value("batch-size", "N", help: "windows per batch", default: "20"),
        .value("batch-time", "N", help: "time steps per window", default: "10"),
        .value("learning-rate", "RATE", help: "RMSprop learning rate", default: "0.001"),
        .value("gradient", "METHOD", help: "adjoint, backprop or checkpointed", default: "adjoint"),
        .value("rtol", "TOL", help: "relative tolerance of dopri5", default: "1e-7"),
        .value("atol", "TOL", help: "absolute tolerance of dopri5", default: "1e-9"),
        .value("evaluate-every", "N", help: "iterations between evaluations and progress lines", default: "20"),
        .value("seed", "N", help: "random seed", default: "0"),
        .value("output", "DIR", help: "folder for the pictures and the loss CSV", default: "runs/demo"),
        .flag("quiet", help: "leave out the progress lines; print the configuration, the result and the files written"),
    ]

    static func run(_ options: ParsedOptions) throws {
        try options.rejectPositional(usage: "neuralode demo [options]")
        var configuration = SpiralDemoConfiguration()
        configuration.iterations = try options.integer("iterations", default: 2000, in: 1...10_000_000)
        configuration.batchSize = try options.integer("batch-size", default: 20, in: 1...100_000)
        configuration.batchTime = try options.integer("batch-time", default: 10, in: 2...999)
        configuration.learningRate = try options.double("learning-rate", default: 1e-3)
        configuration.relativeTolerance = try options.floatRelativeTolerance("rtol", default: 1e-7)
        configuration.absoluteTolerance = try options.double("atol", default: 1e-9)
        configuration.evaluateEvery = try options.integer("evaluate-every", default: 20, in: 1...10_000_000)
        configuration.seed = UInt64(try options.integer("seed", default: 0))
        switch try options.choice("gradient", default: "adjoint", among: ["adjoint", "backprop", "checkpointed"]) {
        case "backprop": configuration.gradient = .backpropagation
        case "checkpointed": configuration.gradient = .checkpointedAdjoint()
        default: configuration.gradient = .adjoint
        }
        let output = URL(fileURLWithPath: options.string("output", default: "runs/demo"))
        let quiet = options.isSet("quiet")
        try prepareOutputFolder(output, option: "output")

        print(
            "config  demo gradient=\(options.string("gradient", default: "adjoint")) method=dopri5 "
                + "rtol=\(configuration.relativeTolerance) atol=\(configuration.absoluteTolerance) "
                + "lr=\(configuration.learningRate) batch=\(configuration.batchSize)x\(configuration.batchTime) "
                + "iterations=\(configuration.iterations) seed=\(configuration.seed)")
        let demo = try SpiralDemo(configuration: configuration)
        var csv = "iteration,loss,batch_loss,nfe_forward,nfe_backward,ms_per_iteration\n"
        let start = Date()
        var completedIterations = 0
        let lossURL = output.appendingPathComponent("loss.csv")
        do {
            try demo.train { progress in
                completedIterations = progress.iteration
            csv += "\(progress.iteration),\(progress.loss),\(progress.batchLoss),\(progress.forwardEvaluations),"
                + "\(progress.backwardEvaluations),\(progress.secondsPerIteration * 1000)\n"
                if !quiet {
                    print(
                        "iter \(progress.iteration)/\(configuration.iterations) | loss \(format(progress.loss, 4)) "
                            + "| batch \(format(progress.batchLoss, 4)) | NFE f \(progress.forwardEvaluations) "
                            + "b \(progress.backwardEvaluations) | \(format(progress.secondsPerIteration * 1000, 2)) ms/iter")
                }
            }
        } catch {
            // Keep the rows of the evaluations that finished, then name the options that help.
            try? AtomicFile.write(csv, to: lossURL)
            let when = completedIterations == 0
                ? "before the first evaluation" : "after the evaluation at iteration \(completedIterations)"
            throw TrainingSolveError(when: when, underlying: error)
        }
        let seconds = Date().timeIntervalSince(start)
        try AtomicFile.write(csv, to: lossURL)
        let pictures = try SpiralDemoPictures.write(demo, to: output)
        let finalLoss = try demo.evaluate()
        print("done    loss \(format(finalLoss, 4)) after \(configuration.iterations) iterations in \(format(seconds, 1)) s")
        for picture in pictures { print("wrote   \(picture.path)") }
        print("wrote   \(output.appendingPathComponent("loss.csv").path)")
    }
}

/// A failed ODE solve during training, worded for the options of `demo` and `latent`.
struct TrainingSolveError: Error, CustomStringConvertible {
    /// When it failed, such as "after the evaluation at iteration 20".
    let when: String
    let underlying: ODESolveError

    var description: String {
        switch underlying {
        case .stepLimitReached, .stepSizeUnderflow, .nonFiniteState, .nonFiniteDerivative:
            return "training failed \(when): the learned dynamics probably diverged; lower --learning-rate, "
                + "or loosen --rtol and --atol. The solver reported: \(underlying)"
        default:
            return "training failed \(when): \(underlying)"
        }
    }
}

/// Formats a number with a fixed count of decimals.
func format(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}
