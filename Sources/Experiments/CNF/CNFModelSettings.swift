import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine

/// Settings of the planar continuous normalizing flow shared by the density-matching and
/// maximum-likelihood experiments. The defaults are those of torchdiffeq's example
/// `examples/cnf.py`: hypernetwork hidden size 32, the flow runs over t ∈ [0, 10], dopri5 with
/// rtol = atol = 1e-5, Adam with learning rate 1e-3, and the adjoint method.
public struct CNFModelSettings: Sendable {
    /// The number of planar units `M` of the dynamics.
    public var width = 64
    /// The hidden size of the hypernetwork that maps `t` to the unit parameters.
    public var hiddenSize = 32
    public var startTime = 0.0
    public var endTime = 10.0
    /// The standard deviation of the base distribution `N(0, σ² I)`. torchdiffeq's two-circles
    /// example uses `σ² = 0.1`.
    public var baseStandardDeviation = 1.0
    public var traceEstimator: TraceEstimator = .exact
    public var gradient: GradientMethod = .adjoint
    public var relativeTolerance = 1e-5
    public var absoluteTolerance = 1e-5
    /// The learning rate of Adam.
    public var learningRate = 1e-3

    public init() {}

    /// The settings that shape a training run, as text. A checkpoint stores it, so that a
    /// resume with other settings is rejected instead of continuing a different run.
    public var fingerprint: String {
        "width=\(width) hidden=\(hiddenSize) t=[\(startTime), \(endTime)] base_std=\(baseStandardDeviation) "
            + "trace=\(traceEstimator) gradient=\(gradient) rtol=\(relativeTolerance) atol=\(absoluteTolerance) "
            + "lr=\(learningRate)"
    }

    /// Creates the flow for points of `dimension` coordinates, its field initialised from
    /// `generator`.
    public func makeFlow(dimension: Int, generator: inout RandomGenerator, noiseSeed: UInt64)
        -> ContinuousNormalizingFlow<PlanarCNFField<Float>>
    {
        let field = PlanarCNFField<Float>(
            dimension: dimension, width: width, hiddenSize: hiddenSize, generator: &generator)
        return ContinuousNormalizingFlow(
            field: field, startTime: startTime, endTime: endTime, traceEstimator: traceEstimator,
            options: ODESolverOptions(
                relativeTolerance: .scalar(relativeTolerance), absoluteTolerance: .scalar(absoluteTolerance)),
            gradient: gradient, baseStandardDeviation: baseStandardDeviation, noiseSeed: noiseSeed)
    }
}

/// One progress report of a training run.
public struct CNFTrainingProgress: Sendable {
    /// The model trained: `cnf` or `planar`.
    public var model: String
    public var iteration: Int
    /// The last iteration of the run.
    public var iterations: Int
    /// The loss on the fixed evaluation set.
    public var loss: Double
    /// The loss of the last training batch.
    public var batchLoss: Double
    /// Function evaluations of the last iteration's forward solve; 0 for the planar flow.
    public var forwardEvaluations: Int
    /// Function evaluations of the last iteration's backward solve (zero with
    /// backpropagation through the solver).
    public var backwardEvaluations: Int
    /// Mean wall time per training iteration since the previous report, in seconds.
    public var secondsPerIteration: Double
}

/// The loss and function evaluations of one training iteration.
public struct CNFStepResult: Sendable {
    public var loss: Double
    public var forwardEvaluations: Int
    public var backwardEvaluations: Int
}

/// A square grid of cell centres over `[-extent, extent]²`, row by row from the top (largest
/// `y`), in the order of an image's pixels.
public struct DensityGrid: Sendable {
    public let extent: Double
    public let resolution: Int

    public init(extent: Double, resolution: Int) {
        precondition(extent > 0 && resolution > 0, "DensityGrid: extent and resolution must be positive, got \(extent) and \(resolution)")
        self.extent = extent
        self.resolution = resolution
    }

    /// The side of one cell.
    public var cellSize: Double { 2 * extent / Double(resolution) }

    /// Returns the cell centres, shape `[resolution², 2]`.
    public func points<Scalar: TensorScalar>() -> Tensor<Scalar> {
        var values = [Scalar]()
        values.reserveCapacity(2 * resolution * resolution)
        for row in 0..<resolution {
            for column in 0..<resolution {
                values.append(Scalar(-extent + (Double(column) + 0.5) * cellSize))
                values.append(Scalar(extent - (Double(row) + 0.5) * cellSize))
            }
        }
        return Tensor(shape: [resolution * resolution, 2], scalars: values)
    }

    /// Counts the points `[n, 2]` per cell, in the order of `points()`. Points outside the
    /// grid are dropped.
    public func histogram<Scalar: TensorScalar>(_ points: Tensor<Scalar>) -> [Double] {
        var counts = [Double](repeating: 0, count: resolution * resolution)
        let values = points.doubles
        for index in stride(from: 0, to: values.count, by: 2) {
            let column = Int(((values[index] + extent) / cellSize).rounded(.down))
            let row = Int(((extent - values[index + 1]) / cellSize).rounded(.down))
            if (0..<resolution).contains(column) && (0..<resolution).contains(row) {
                counts[row * resolution + column] += 1
            }
        }
        return counts
    }
}

/// A generator for the random draws of one iteration, derived from the run's seed and the
/// iteration, so that a resumed run draws the same batches as an uninterrupted one.
func iterationGenerator(seed: UInt64, iteration: Int, stream: UInt64) -> RandomGenerator {
    RandomGenerator(seed: seed ^ (UInt64(iteration) &* 0x9E37_79B9_7F4A_7C15) ^ (stream &* 0xBF58_476D_1CE4_E5B9))
}

/// Measures the wall time between progress reports.
struct ProgressClock {
    private var last = Date()
    private var iterations = 0

    mutating func tick() { iterations += 1 }

    /// Mean seconds per iteration since the last restart.
    func secondsPerIteration() -> Double {
        Date().timeIntervalSince(last) / Double(max(iterations, 1))
    }

    /// Starts a new interval, so that evaluations between intervals are not counted.
    mutating func restart() {
        last = Date()
        iterations = 0
    }
}
