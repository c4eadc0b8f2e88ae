/// Group and batch normalisation without affine parameters: layers multiply by their weight and
/// add their bias after these operations.
extension Tensor {
    /// Normalises each group of channels of each sample to zero mean and unit variance, as
    /// PyTorch's `group_norm` without weight and bias.
    ///
    /// For input [N, C, …], the C channels split into `groupCount` groups of consecutive
    /// channels, and each (sample, group) is normalised over its `C / groupCount` channels and
    /// all trailing positions: `(x − mean) / sqrt(variance + epsilon)` with the biased variance.
    ///
    /// - Precondition: rank at least 2, `groupCount` divides C, no dimension after the first
    ///   is empty, and `epsilon` is non-negative.
    public func groupNormalized(groupCount: Int, epsilon: Scalar = 1e-5) -> Tensor {
        precondition(
            rank >= 2,
            "groupNormalized: input must have rank 2 or more [N, C, …], got shape \(shape)")
        precondition(
            groupCount >= 1, "groupNormalized: groupCount must be at least 1, got \(groupCount) for input \(shape)")
        precondition(
            shape[1] % groupCount == 0,
            "groupNormalized: channels \(shape[1]) of input \(shape) are not divisible by groupCount \(groupCount)")
        precondition(
            shape.dropFirst().allSatisfy { $0 >= 1 },
            "groupNormalized: input \(shape) has an empty dimension after the batch dimension")
        precondition(epsilon >= 0, "groupNormalized: epsilon \(epsilon) must be non-negative")
        let statistics = shape[0] * groupCount
        let layout = NormalizationLayout(
            outer: 1, statisticCount: statistics,
            inner: statistics == 0 ? 0 : scalarCount / statistics)
        return Tensor.normalize(self, layout, epsilon: epsilon).output
    }

    /// Normalises over `axes` to zero mean and unit variance, as batch normalisation does in
    /// training, and returns the statistics used.
    ///
    /// For images [N, C, H, W], `alongAxes: [0, 2, 3]` normalises each channel over the batch
    /// and positions; for features [N, F], `alongAxes: [0]` normalises each feature. The
    /// variance is the biased one (divided by the number of values), which PyTorch also uses
    /// to normalise in training. PyTorch's running average uses the unbiased variance instead,
    /// `variance · n / (n − 1)`.
    ///
    /// - Returns: The normalised tensor, and the mean and biased variance with the shape of the
    ///   input where the reduced axes have size 1 (for example [1, C, 1, 1]), so they broadcast
    ///   against the input. All three are differentiable.
    /// - Precondition: `axes` is non-empty and in range, every reduced axis is non-empty, and
    ///   `epsilon` is non-negative.
    public func batchNormalized(
        alongAxes axes: [Int], epsilon: Scalar = 1e-5
    ) -> (output: Tensor, mean: Tensor, variance: Tensor) {
        precondition(!axes.isEmpty, "batchNormalized: no axes given for input \(shape)")
        let reduced = Set(axes.map {
            ShapeRules.normalize(axis: $0, rank: rank, shape: shape, operation: "batchNormalized")
        })
        precondition(
            reduced.allSatisfy { shape[$0] >= 1 },
            "batchNormalized: input \(shape) is empty along the reduced axes \(reduced.sorted())")
        precondition(epsilon >= 0, "batchNormalized: epsilon \(epsilon) must be non-negative")
        let statisticShape = shape.indices.map { reduced.contains($0) ? 1 : shape[$0] }
        let kept = shape.indices.filter { !reduced.contains($0) }

        // The fused kernel needs the kept axes to be consecutive: [outer, kept, inner].
        let start = kept.first ?? 0
        let end = kept.last.map { $0 + 1 } ?? 0
        if end - start == kept.count {
            let layout = NormalizationLayout(
                outer: shape[..<start].reduce(1, *),
                statisticCount: shape[start..<end].reduce(1, *),
                inner: shape[end...].reduce(1, *))
            let (output, mean, variance) = Tensor.normalize(self, layout, epsilon: epsilon)
            return (
                output,
                Tensor.recordedMean(mean, of: self, layout).reshaped(to: statisticShape),
                Tensor.recordedVariance(variance, of: self, layout).reshaped(to: statisticShape)
            )
        }
        // Other axis sets, such as the middle axis of [A, B, C], compose recorded operations.
        let sortedAxes = reduced.sorted()
        let mean = self.mean(alongAxes: sortedAxes, keepingDimensions: true)
        let centered = self - mean
        let variance = centered.squared().mean(alongAxes: sortedAxes, keepingDimensions: true)
        let output = centered * (variance + epsilon).sqrt().reciprocal()
        return (output, mean, variance)
    }

    /// Normalises with given statistics, as batch normalisation does in evaluation:
    /// `(x − mean) / sqrt(variance + epsilon)`, broadcasting `mean` and `variance` against
    /// this tensor (for images [N, C, H, W], give them shape [1, C, 1, 1] or [C, 1, 1]).
    ///
    /// - Precondition: `mean` and `variance` broadcast to this shape, and `epsilon` is
    ///   non-negative.
    public func batchNormalized(mean: Tensor, variance: Tensor, epsilon: Scalar = 1e-5) -> Tensor {
        precondition(
            ShapeRules.canBroadcast(mean.shape, to: shape)
                && ShapeRules.canBroadcast(variance.shape, to: shape),
            "batchNormalized(mean:variance:): mean \(mean.shape) and variance \(variance.shape) must broadcast to the input \(shape)"
        )
        precondition(epsilon >= 0, "batchNormalized(mean:variance:): epsilon \(epsilon) must be non-negative")
        return (self - mean) * (variance + epsilon).sqrt().reciprocal()
    }
}

// MARK: - Recorded primitives

extension Tensor {
    /// Normalises `input` per statistic of `layout` with the fused kernel. Returns the output,
    /// which is recorded, and the per-statistic mean and biased variance of shape
    /// [statisticCount], which are not.
    static func normalize(
        _ input: Tensor, _ layout: NormalizationLayout, epsilon: Scalar
    ) -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let result = Tensor(uninitializedShape: input.shape)
        let mean = Tensor(uninitializedShape: [layout.statisticCount])
        let variance = Tensor(uninitializedShape: [layout.statisticCount])
        let inverseDeviation = Tensor(uninitializedShape: [layout.statisticCount])
        NormalizationKernels.normalize(
            input.base, layout, epsilon: epsilon, output: result.base, mean: mean.base,
            variance: variance.base, inverseDeviation: inverseDeviation.base)
        guard shouldRecord(input) else { return (result, mean, variance) }
        // `result` owns this node, so it is alive whenever the pullback runs; capturing it
        // strongly would make a reference cycle.
        let output = result.recorded("normalize", [input]) { [unowned result] g in
            if GradientMode.isEnabled {
                return [normalizeGradient(g, input: input, output: result, layout, epsilon: epsilon)]
            }
            let inputGradient = Tensor(uninitializedShape: input.shape)
            NormalizationKernels.normalizeGradient(
                g.base, output: result.base, layout, inverseDeviation: inverseDeviation.base,
                into: inputGradient.base)
            return [inputGradient]
        }
        return (output, mean, variance)
    }

    /// Computes the input gradient of `normalize` with recorded operations, for backward passes
    /// that are themselves differentiated: `r · (g − mean(g) − y · mean(g · y))`.
    static func normalizeGradient(
        _ g: Tensor, input: Tensor, output: Tensor, _ layout: NormalizationLayout, epsilon: Scalar
    ) -> Tensor {
        let axes = [0, 2]
        let x = input.reshaped(to: layout.viewShape)
        let y = output.reshaped(to: layout.viewShape)
        let cotangent = g.reshaped(to: layout.viewShape)
        let centered = x - x.mean(alongAxes: axes, keepingDimensions: true)
        let variance = centered.squared().mean(alongAxes: axes, keepingDimensions: true)
        let inverseDeviation = (variance + epsilon).sqrt().reciprocal()
        let meanGradient = cotangent.mean(alongAxes: axes, keepingDimensions: true)
        let meanProjection = (cotangent * y).mean(alongAxes: axes, keepingDimensions: true)
        let gradient = inverseDeviation * (cotangent - meanGradient - y * meanProjection)
        return gradient.reshaped(to: input.shape)
    }

    /// Attaches the mean computed by the fused kernel to the graph of `input`.
    static func recordedMean(_ mean: Tensor, of input: Tensor, _ layout: NormalizationLayout) -> Tensor {
        guard shouldRecord(input) else { return mean }
        let count = Scalar(layout.count)
        return mean.recorded("batchNormalized mean", [input]) { g in
            let spread = g.reshaped(to: layout.statisticViewShape).broadcasted(to: layout.viewShape)
            return [(spread / count).reshaped(to: input.shape)]
        }
    }

    /// Attaches the biased variance computed by the fused kernel to the graph of `input`.
    static func recordedVariance(
        _ variance: Tensor, of input: Tensor, _ layout: NormalizationLayout
    ) -> Tensor {
        guard shouldRecord(input) else { return variance }
        let count = Scalar(layout.count)
        return variance.recorded("batchNormalized variance", [input]) { g in
            // ∂/∂x_i of mean((x − m)²) is 2 (x_i − m) / n, since the deviations sum to zero.
            let x = input.reshaped(to: layout.viewShape)
            let centered = x - x.mean(alongAxes: [0, 2], keepingDimensions: true)
            let weights = g.reshaped(to: layout.statisticViewShape) * (2 / count)
            return [(centered * weights).reshaped(to: input.shape)]
        }
    }
}
