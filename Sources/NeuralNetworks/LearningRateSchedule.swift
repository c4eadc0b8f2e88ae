/// A learning rate as a function of training progress, measured in epochs.
///
/// Progress is fractional, so a training loop can update the rate every step:
/// `optimizer.learningRate = schedule.learningRate(atEpoch: Double(epoch) + Double(batch) / Double(batchesPerEpoch))`.
/// Epochs count from 0.
public protocol LearningRateSchedule: Sendable {
    /// Returns the learning rate at `epoch` epochs of training.
    func learningRate(atEpoch epoch: Double) -> Double
}

/// A learning rate that is constant between boundary epochs, as PyTorch's `MultiStepLR` and
/// the step decay of He et al., "Deep Residual Learning for Image Recognition" (2016).
///
/// The rate is `values[k]`, where `k` is the number of boundaries at or before the epoch: at
/// a boundary epoch the new value already applies. The schedule of torchdiffeq's MNIST
/// ODE-Net example with batch size 128 (0.1, divided by 10 at epochs 60, 100 and 140) is
/// `PiecewiseConstantSchedule(initial: 0.1, boundaries: [60, 100, 140], factor: 0.1)`.
public struct PiecewiseConstantSchedule: LearningRateSchedule, Equatable {
    /// Epochs at which the rate changes, strictly increasing.
    public let boundaries: [Double]
    /// One more value than boundaries: the rate before the first boundary, then after each.
    public let values: [Double]

    /// Creates a schedule with explicit values.
    ///
    /// - Precondition: `boundaries` strictly increase, and `values` has one more element.
    public init(boundaries: [Double], values: [Double]) {
        precondition(
            values.count == boundaries.count + 1,
            "PiecewiseConstantSchedule: \(boundaries.count) boundaries need \(boundaries.count + 1) values, got \(values.count)")
        precondition(
            zip(boundaries, boundaries.dropFirst()).allSatisfy { $0 < $1 },
            "PiecewiseConstantSchedule: boundaries must strictly increase, got \(boundaries)")
        precondition(
            values.allSatisfy { $0 >= 0 && $0.isFinite },
            "PiecewiseConstantSchedule: values must be non-negative and finite, got \(values)")
        self.boundaries = boundaries
        self.values = values
    }

    /// Creates a schedule that multiplies the rate by `factor` at each boundary:
    /// `initial · factor^k` after the k-th boundary.
    public init(initial: Double, boundaries: [Double], factor: Double) {
        var values = [initial]
        for _ in boundaries { values.append(values[values.count - 1] * factor) }
        self.init(boundaries: boundaries, values: values)
    }

    public func learningRate(atEpoch epoch: Double) -> Double {
        var passed = 0
        while passed < boundaries.count && epoch >= boundaries[passed] { passed += 1 }
        return values[passed]
    }
}

/// A constant learning rate.
public struct ConstantSchedule: LearningRateSchedule, Equatable {
    public let value: Double

    public init(_ value: Double) {
        precondition(value >= 0 && value.isFinite, "ConstantSchedule: value must be non-negative and finite, got \(value)")
        self.value = value
    }

    public func learningRate(atEpoch epoch: Double) -> Double { value }
}

/// Another schedule multiplied by a factor that grows linearly from `startFactor` at epoch 0
/// to 1 at `epochs`, then stays 1: the gradual warm-up of Goyal et al., "Accurate, Large
/// Minibatch SGD" (2017), shaped as PyTorch's `LinearLR`.
public struct LinearWarmUp<Base: LearningRateSchedule>: LearningRateSchedule {
    public let base: Base
    /// Length of the warm-up in epochs (fractional allowed).
    public let epochs: Double
    /// Factor at epoch 0.
    public let startFactor: Double

    /// - Precondition: `epochs` is positive and `startFactor` is in [0, 1].
    public init(_ base: Base, epochs: Double, startFactor: Double = 0.1) {
        precondition(epochs > 0, "LinearWarmUp: epochs must be positive, got \(epochs)")
        precondition(
            startFactor >= 0 && startFactor <= 1, "LinearWarmUp: startFactor must be in [0, 1], got \(startFactor)")
        self.base = base
        self.epochs = epochs
        self.startFactor = startFactor
    }

    public func learningRate(atEpoch epoch: Double) -> Double {
        let progress = min(max(epoch / epochs, 0), 1)
        return base.learningRate(atEpoch: epoch) * (startFactor + (1 - startFactor) * progress)
    }
}

extension LearningRateSchedule {
    /// Returns this schedule with a linear warm-up over the first `epochs`; see `LinearWarmUp`.
    public func withLinearWarmUp(epochs: Double, startFactor: Double = 0.1) -> LinearWarmUp<Self> {
        LinearWarmUp(self, epochs: epochs, startFactor: startFactor)
    }
}
