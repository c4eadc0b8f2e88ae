import TensorEngine

/// Group normalisation (Wu and He, "Group Normalization", ECCV 2018), as PyTorch's
/// `nn.GroupNorm`: each sample's channels split into `groupCount` groups, each group is
/// normalised to zero mean and unit variance, then each channel is scaled by `weight` and
/// shifted by `bias`.
///
/// The input has shape `[N, C, ...]`. The weight starts at 1 and the bias at 0.
public final class GroupNorm<Scalar: TensorScalar>: Layer {
    @Parameter public var weight: Tensor<Scalar>?
    @Parameter public var bias: Tensor<Scalar>?

    public let groupCount: Int
    public let channelCount: Int
    /// Added to the variance before the square root.
    public let epsilon: Scalar

    /// - Parameter affine: Whether the layer has a per-channel `weight` and `bias`.
    /// - Precondition: `groupCount` is positive and divides `channelCount`.
    public init(groupCount: Int, channelCount: Int, epsilon: Scalar = 1e-5, affine: Bool = true) {
        precondition(
            groupCount > 0 && channelCount > 0 && channelCount % groupCount == 0,
            "GroupNorm: groupCount \(groupCount) must be positive and divide channelCount \(channelCount)")
        precondition(epsilon >= 0, "GroupNorm: epsilon must be non-negative, got \(epsilon)")
        self.groupCount = groupCount
        self.channelCount = channelCount
        self.epsilon = epsilon
        self.weight = affine ? Tensor(ones: [channelCount]) : nil
        self.bias = affine ? Tensor(zeros: [channelCount]) : nil
    }

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(
            input.rank >= 2 && input.shape[1] == channelCount,
            "GroupNorm: input shape \(input.shape) is not [N, \(channelCount), ...]")
        let normalized = input.groupNormalized(groupCount: groupCount, epsilon: epsilon)
        return applyChannelAffine(normalized, weight: weight, bias: bias, rank: input.rank)
    }
}

/// Batch normalisation (Ioffe and Szegedy, "Batch Normalization", ICML 2015), as PyTorch's
/// `nn.BatchNorm1d` and `nn.BatchNorm2d`.
///
/// The input has shape `[N, C]`, `[N, C, L]` or `[N, C, H, W]`; each channel is normalised
/// over every axis but the channel axis.
///
/// In training mode, the layer normalises with the batch mean and biased variance, and
/// updates the running statistics in place:
/// `running = (1 − momentum) · running + momentum · batch`, where the variance used there is
/// the unbiased one, `variance · n / (n − 1)` for `n` values per channel. In evaluation mode it
/// normalises with the running statistics. Both then apply the per-channel `weight` (initially
/// 1) and `bias` (initially 0).
public final class BatchNorm<Scalar: TensorScalar>: Layer, TrainingModeDependent {
    @Parameter public var weight: Tensor<Scalar>?
    @Parameter public var bias: Tensor<Scalar>?
    /// Running mean per channel, initially 0; nil when running statistics are not tracked.
    /// Listed as `running_mean`, PyTorch's name.
    @Buffer(name: "running_mean") public var runningMean: Tensor<Scalar>? = nil
    /// Running unbiased variance per channel, initially 1. Listed as `running_var`.
    @Buffer(name: "running_var") public var runningVariance: Tensor<Scalar>? = nil

    public let featureCount: Int
    public let epsilon: Scalar
    /// Weight of the newest batch in the running statistics.
    public let momentum: Scalar
    public var isTraining = true

    /// - Parameters:
    ///   - featureCount: Number of channels C.
    ///   - affine: Whether the layer has a per-channel `weight` and `bias`.
    ///   - tracksRunningStatistics: Whether to keep running statistics. Without them the layer
    ///     normalises with batch statistics in evaluation mode too.
    /// - Precondition: `featureCount` is positive and `momentum` is in [0, 1].
    public init(
        featureCount: Int, epsilon: Scalar = 1e-5, momentum: Scalar = 0.1, affine: Bool = true,
        tracksRunningStatistics: Bool = true
    ) {
        precondition(featureCount > 0, "BatchNorm: featureCount must be positive, got \(featureCount)")
        precondition(epsilon >= 0, "BatchNorm: epsilon must be non-negative, got \(epsilon)")
        precondition(momentum >= 0 && momentum <= 1, "BatchNorm: momentum must be in [0, 1], got \(momentum)")
        self.featureCount = featureCount
        self.epsilon = epsilon
        self.momentum = momentum
        self.weight = affine ? Tensor(ones: [featureCount]) : nil
        self.bias = affine ? Tensor(zeros: [featureCount]) : nil
        self.runningMean = tracksRunningStatistics ? Tensor(zeros: [featureCount]) : nil
        self.runningVariance = tracksRunningStatistics ? Tensor(ones: [featureCount]) : nil
    }

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(
            input.rank >= 2 && input.shape[1] == featureCount,
            "BatchNorm: input shape \(input.shape) is not [N, \(featureCount)] or [N, \(featureCount), ...]")
        let statisticShape = [1, featureCount] + Array(repeating: 1, count: input.rank - 2)
        let normalized: Tensor<Scalar>
        if isTraining || runningMean == nil {
            let axes = [0] + Array(2..<input.rank)
            let valuesPerChannel = input.scalarCount / featureCount
            precondition(
                valuesPerChannel > 1 || !isTraining,
                "BatchNorm: training needs more than one value per channel, got input shape \(input.shape)")
            let batch = input.batchNormalized(alongAxes: axes, epsilon: epsilon)
            normalized = batch.output
            if isTraining, let runningMean, let runningVariance {
                updateRunningStatistics(
                    runningMean, runningVariance, batchMean: batch.mean, batchVariance: batch.variance,
                    valuesPerChannel: valuesPerChannel)
            }
        } else {
            normalized = input.batchNormalized(
                mean: runningMean!.reshaped(to: statisticShape),
                variance: runningVariance!.reshaped(to: statisticShape), epsilon: epsilon)
        }
        return applyChannelAffine(normalized, weight: weight, bias: bias, rank: input.rank)
    }

    /// Blends the batch statistics into the running ones in place, outside the tape.
    private func updateRunningStatistics(
        _ runningMean: Tensor<Scalar>, _ runningVariance: Tensor<Scalar>,
        batchMean: Tensor<Scalar>, batchVariance: Tensor<Scalar>, valuesPerChannel: Int
    ) {
        let keep = 1 - momentum
        let unbiasing = Scalar(valuesPerChannel) / Scalar(valuesPerChannel - 1)
        batchMean.withUnsafeBufferPointer { mean in
            runningMean.withUnsafeMutableBufferPointer { running in
                for c in 0..<featureCount { running[c] = keep * running[c] + momentum * mean[c] }
            }
        }
        batchVariance.withUnsafeBufferPointer { variance in
            runningVariance.withUnsafeMutableBufferPointer { running in
                for c in 0..<featureCount {
                    running[c] = keep * running[c] + momentum * variance[c] * unbiasing
                }
            }
        }
    }
}

/// Multiplies channel `c` (axis 1) by `weight[c]` and adds `bias[c]`, for inputs of `rank`.
private func applyChannelAffine<Scalar>(
    _ x: Tensor<Scalar>, weight: Tensor<Scalar>?, bias: Tensor<Scalar>?, rank: Int
) -> Tensor<Scalar> {
    var result = x
    if let weight {
        let shape = [1, weight.scalarCount] + Array(repeating: 1, count: rank - 2)
        result = result * weight.reshaped(to: shape)
    }
    if let bias {
        let shape = [1, bias.scalarCount] + Array(repeating: 1, count: rank - 2)
        result = result + bias.reshaped(to: shape)
    }
    return result
}
