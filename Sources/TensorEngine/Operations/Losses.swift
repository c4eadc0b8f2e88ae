/// Loss functions and Gaussian log-densities, with fused forward kernels.

/// The combination of a loss's per-example terms into one rank-0 tensor.
public enum LossReduction: Sendable {
    /// The mean over the examples (or elements).
    case mean
    /// The sum over the examples (or elements).
    case sum
}

/// `log(2π)`, the constant term of a Gaussian log-density.
private let logTwoPi = 1.8378770664093454835606594728112

/// Computes the cross-entropy of class `logits` against integer `labels`, as
/// `torch.nn.functional.cross_entropy` does: `-log softmax(logits)[n, labels[n]]` per example,
/// combined by `reduction` (mean over the batch by default).
///
/// The log-softmax is computed stably in the same pass. The gradient with respect to the
/// logits is `(softmax(logits) - onehot(labels)) / N` for the mean.
///
/// - Parameters:
///   - logits: Unnormalised scores of shape `[N, C]`.
///   - labels: `N` class indices, each in `0..<C`.
///   - reduction: `.mean` (default) or `.sum` over the `N` examples.
/// - Returns: A rank-0 tensor.
/// - Precondition: `logits` has rank 2 with `C ≥ 1`, `labels.count == N`, and every label is
///   in `0..<C`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func crossEntropy<Scalar>(
    logits: Tensor<Scalar>, labels: [Int], reduction: LossReduction = .mean
) -> Tensor<Scalar> {
    precondition(
        logits.rank == 2,
        "crossEntropy(logits:labels:): logits need shape [batch, classes], got \(logits.shape); reshape to [-1, classes] first"
    )
    let batch = logits.shape[0]
    let classes = logits.shape[1]
    precondition(
        labels.count == batch,
        "crossEntropy(logits:labels:): \(labels.count) labels for logits of shape \(logits.shape); give one label per row"
    )
    precondition(classes > 0, "crossEntropy(logits:labels:): logits of shape \(logits.shape) have no classes")
    for (position, label) in labels.enumerated() {
        precondition(
            label >= 0 && label < classes,
            "crossEntropy(logits:labels:): label \(label) at position \(position) is out of range 0..<\(classes) for logits of shape \(logits.shape)"
        )
    }
    let scale: Scalar = reduction == .mean ? 1 / Scalar(Swift.max(1, batch)) : 1

    // Softmax probabilities are kept for the backward pass only when it will run.
    let recording = Tensor.shouldRecord(logits)
    let probabilities = Tensor<Scalar>(uninitializedShape: recording ? logits.shape : [0])
    let total = labels.withUnsafeBufferPointer { labelBuffer in
        LossKernel.crossEntropy(
            logits.base, labels: labelBuffer, classes: classes,
            probabilities: recording ? probabilities.base : nil)
    }
    let result = Tensor<Scalar>(total * scale)
    guard recording else { return result }

    return result.recorded("crossEntropy", [logits]) { g in
        if GradientMode.isEnabled {
            // Recording the backward pass: build the gradient from differentiable operations
            // so that it can be differentiated again.
            let oneHot = Tensor<Scalar>(zeros: logits.shape)
            for (row, label) in labels.enumerated() { oneHot.base[row * classes + label] = 1 }
            return [(logits.softmax(alongAxis: 1) - oneHot) * (g * scale)]
        }
        let gradient = Tensor<Scalar>(uninitializedShape: logits.shape)
        let factor = g.scalar * scale
        for i in 0..<gradient.scalarCount { gradient.base[i] = probabilities.base[i] * factor }
        for (row, label) in labels.enumerated() { gradient.base[row * classes + label] -= factor }
        return [gradient]
    }
}

/// Computes the mean (or sum) of `(predictions - targets)²` over all elements.
///
/// - Precondition: the shapes are equal. A broadcast here is almost always a bug, so it is
///   rejected rather than applied.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func meanSquaredError<Scalar>(
    _ predictions: Tensor<Scalar>, _ targets: Tensor<Scalar>, reduction: LossReduction = .mean
) -> Tensor<Scalar> {
    precondition(
        predictions.shape == targets.shape,
        "meanSquaredError(_:_:): prediction shape \(predictions.shape) differs from target shape \(targets.shape)"
    )
    let count = predictions.scalarCount
    let scale: Scalar = reduction == .mean ? 1 / Scalar(Swift.max(1, count)) : 1
    let total = RowReduction.squaredDistance(predictions.base, targets.base, count: count)
    let result = Tensor<Scalar>(total * scale)
    guard Tensor.shouldRecord(predictions, targets) else { return result }
    return result.recorded("meanSquaredError", [predictions, targets]) { g in
        let gradient = (predictions - targets) * (g * (2 * scale))
        return [
            predictions.requiresGradient ? gradient : nil,
            targets.requiresGradient ? -gradient : nil,
        ]
    }
}

/// Computes the elementwise log-density of `x` under `N(mean, exp(logVariance))`:
///
/// ```
/// log N(x; μ, σ²) = -(log(2π) + log σ² + (x - μ)² / σ²) / 2
/// ```
///
/// The three inputs broadcast against each other. Sum the result for the log-likelihood of
/// independent coordinates.
///
/// - Precondition: the shapes broadcast together.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func gaussianLogDensity<Scalar>(
    x: Tensor<Scalar>, mean: Tensor<Scalar>, logVariance: Tensor<Scalar>
) -> Tensor<Scalar> {
    let operands = LossKernel.broadcastOperands([x, mean, logVariance], operation: "gaussianLogDensity(x:mean:logVariance:)")
    let result = Tensor<Scalar>(uninitializedShape: operands.shape)
    // The broadcast copies must outlive the loop that reads their pointers.
    withExtendedLifetime(operands.values) {
        let xs = operands.values[0].base
        let means = operands.values[1].base
        let logVariances = operands.values[2].base
        let count = result.scalarCount
        let out = result.base
        // The precision exp(-log σ²) goes to `out` first, through the vector exp kernel.
        for i in 0..<count { out[i] = -logVariances[i] }
        Scalar.apply(.exp, out, out, count: count)
        let constant = Scalar(logTwoPi)
        for i in 0..<count {
            let d = xs[i] - means[i]
            out[i] = -0.5 * (constant + logVariances[i] + d * d * out[i])
        }
    }
    guard Tensor.shouldRecord([x, mean, logVariance]) else { return result }
    return result.recorded("gaussianLogDensity", [x, mean, logVariance]) { g in
        let d = x - mean
        let precision = (-logVariance).exp()
        let scaledResidual = g * d * precision
        return [
            x.requiresGradient ? (-scaledResidual).summed(toShape: x.shape) : nil,
            mean.requiresGradient ? scaledResidual.summed(toShape: mean.shape) : nil,
            logVariance.requiresGradient
                ? ((scaledResidual * d - g) * 0.5).summed(toShape: logVariance.shape) : nil,
        ]
    }
}

/// Computes the elementwise `KL(N(mean1, exp(logVariance1)) ‖ N(mean2, exp(logVariance2)))` of
/// diagonal Gaussians, by the closed form
///
/// ```
/// KL = (log σ₂² - log σ₁² + (σ₁² + (μ₁ - μ₂)²) / σ₂² - 1) / 2
/// ```
///
/// The four inputs broadcast against each other. Sum the result over the latent coordinates
/// for the KL divergence of the joint distributions.
///
/// - Precondition: the shapes broadcast together.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func klDivergenceDiagonalGaussians<Scalar>(
    mean1: Tensor<Scalar>, logVariance1: Tensor<Scalar>,
    mean2: Tensor<Scalar>, logVariance2: Tensor<Scalar>
) -> Tensor<Scalar> {
    let inputs = [mean1, logVariance1, mean2, logVariance2]
    let operands = LossKernel.broadcastOperands(
        inputs, operation: "klDivergenceDiagonalGaussians(mean1:logVariance1:mean2:logVariance2:)")
    let result = Tensor<Scalar>(uninitializedShape: operands.shape)
    // The broadcast copies must outlive the loop that reads their pointers.
    withExtendedLifetime(operands.values) {
        let m1 = operands.values[0].base
        let lv1 = operands.values[1].base
        let m2 = operands.values[2].base
        let lv2 = operands.values[3].base
        let count = result.scalarCount
        let out = result.base
        // σ₁²/σ₂² goes to `out` and 1/σ₂² to `precision`, through the vector exp kernel.
        let precision = UnsafeMutablePointer<Scalar>.allocate(capacity: count)
        defer { precision.deallocate() }
        for i in 0..<count {
            out[i] = lv1[i] - lv2[i]
            precision[i] = -lv2[i]
        }
        Scalar.apply(.exp, out, out, count: count)
        Scalar.apply(.exp, precision, precision, count: count)
        for i in 0..<count {
            let d = m1[i] - m2[i]
            out[i] = 0.5 * (out[i] + d * d * precision[i] - (lv1[i] - lv2[i]) - 1)
        }
    }
    guard Tensor.shouldRecord(inputs) else { return result }
    return result.recorded("klDivergenceDiagonalGaussians", inputs) { g in
        let d = mean1 - mean2
        let precision2 = (-logVariance2).exp()
        let varianceRatio = (logVariance1 - logVariance2).exp()
        let scaledResidual = g * d * precision2
        let gradMean1 = scaledResidual
        // ∂/∂logVariance1 = (r - 1) / 2 and ∂/∂logVariance2 = (1 - r - d² / σ₂²) / 2, with
        // r = σ₁² / σ₂².
        let gradLogVariance1 = g * (varianceRatio - 1) * 0.5
        return [
            mean1.requiresGradient ? gradMean1.summed(toShape: mean1.shape) : nil,
            logVariance1.requiresGradient ? gradLogVariance1.summed(toShape: logVariance1.shape) : nil,
            mean2.requiresGradient ? (-gradMean1).summed(toShape: mean2.shape) : nil,
            logVariance2.requiresGradient
                ? (scaledResidual * d * -0.5 - gradLogVariance1).summed(toShape: logVariance2.shape)
                : nil,
        ]
    }
}

/// Loops behind the losses.
enum LossKernel {
    /// Sums `logSumExp(row) - row[label]` over the rows of a `[labels.count, classes]` buffer,
    /// and writes the softmax of each row to `probabilities` when it is given.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func crossEntropy<S: TensorScalar>(
        _ logits: UnsafePointer<S>, labels: UnsafeBufferPointer<Int>, classes: Int,
        probabilities: UnsafeMutablePointer<S>?
    ) -> S {
        // Shift every row by its maximum, then take exp of the whole batch in one call of the
        // vector kernel, so short rows do not pay a call each.
        let batch = labels.count
        let count = batch * classes
        let scratch = probabilities == nil ? UnsafeMutablePointer<S>.allocate(capacity: count) : nil
        defer { scratch?.deallocate() }
        let exponentials = probabilities ?? scratch!
        var total: S = 0
        for row in 0..<batch {
            let values = logits + row * classes
            let shifted = exponentials + row * classes
            let maximum = RowReduction.extremum(values, count: classes, largest: true)
            for c in 0..<classes { shifted[c] = values[c] - maximum }
            // The loss of this row is logSumExp(row) - row[label], and logSumExp(row) - maximum
            // is added below.
            total += maximum - values[labels[row]]
        }
        S.apply(.exp, exponentials, exponentials, count: count)
        for row in 0..<batch {
            let rowExponentials = exponentials + row * classes
            let sum = RowReduction.sum(rowExponentials, count: classes)
            total += S.log(sum)
            if probabilities != nil {
                let reciprocal = 1 / sum
                for c in 0..<classes { rowExponentials[c] *= reciprocal }
            }
        }
        return total
    }

    /// Returns the common broadcast shape of `tensors` and each tensor broadcast to it (the
    /// tensor itself when it already has that shape).
    static func broadcastOperands<S: TensorScalar>(
        _ tensors: [Tensor<S>], operation: StaticString
    ) -> (shape: [Int], values: [Tensor<S>]) {
        var shape = tensors[0].shape
        for tensor in tensors.dropFirst() {
            shape = ShapeRules.broadcast(shape, tensor.shape, operation: operation)
        }
        let values = withoutGradients { tensors.map { $0.broadcasted(to: shape) } }
        return (shape, values)
    }
}
