import Datasets
import Foundation
import NeuralNetworks
import NeuralODE
import TensorEngine

/// The recurrent baselines of Chen et al., "Neural Ordinary Differential Equations" (NeurIPS
/// 2018), Table 2: a recurrent network that reads the observations in time order and predicts
/// the next one, trained on the Gaussian negative log-likelihood of that prediction.
///
/// At each step the cell reads the observed values (zeros where missing), the mask when
/// channels can be missing, and, for the `rnn-gap` variant, the time to the next observation.
/// To extrapolate, it reads its own prediction at each further time.
public final class RecurrentForecaster<Scalar: TensorScalar>: Module {
    public let cell: any RecurrentCell<Scalar>
    public let output: Linear<Scalar>
    public let channelCount: Int
    /// Whether the cell reads the time to the next observation.
    public let readsTimeGap: Bool
    /// Whether the cell reads the observation mask.
    public let readsMask: Bool

    public init(
        channelCount: Int, hiddenUnits: Int, cell kind: RecurrentCellKind, readsTimeGap: Bool, readsMask: Bool,
        generator: inout RandomGenerator
    ) {
        let inputSize = channelCount * (readsMask ? 2 : 1) + (readsTimeGap ? 1 : 0)
        cell = kind.makeCell(inputSize: inputSize, hiddenSize: hiddenUnits, generator: &generator)
        output = Linear(inputSize: hiddenUnits, outputSize: channelCount, generator: &generator)
        self.channelCount = channelCount
        self.readsTimeGap = readsTimeGap
        self.readsMask = readsMask
    }

    private func features(values: Tensor<Scalar>, mask: Tensor<Scalar>, gap: Tensor<Scalar>) -> Tensor<Scalar> {
        var parts = [values]
        if readsMask { parts.append(mask) }
        if readsTimeGap { parts.append(gap) }
        return parts.count == 1 ? parts[0] : Tensor.concatenated(parts, alongAxis: 1)
    }

    /// Reads step `index` and returns the next hidden state, kept unchanged for series
    /// whose step is padding.
    private func advance(
        _ hidden: Tensor<Scalar>, values: Tensor<Scalar>, mask: Tensor<Scalar>, gap: Tensor<Scalar>,
        present: Tensor<Scalar>?
    ) -> Tensor<Scalar> {
        let next = cell(features(values: values, mask: mask, gap: gap), hidden)
        guard let present else { return next }
        return hidden + present * (next - hidden)
    }

    /// Predicts each observation from the ones before it: the predictions of steps `1…` of
    /// the batch, their observed values and their masks, each `[steps − 1, batch, channels]`.
    /// The mask is 0 for padding. `nil` when the longest series has one observation.
    public func oneStepPredictions(_ batch: IrregularBatch)
        -> (predictions: Tensor<Scalar>, targets: Tensor<Scalar>, mask: Tensor<Scalar>)?
    {
        guard batch.steps.count > 1 else { return nil }
        let steps = batch.steps.map(ScalarStep<Scalar>.init)
        var hidden = cell.zeroState(batchSize: batch.batchSize)
        var predictions: [Tensor<Scalar>] = []
        for index in 0..<(steps.count - 1) {
            let step = steps[index]
            hidden = advance(
                hidden, values: step.values, mask: step.mask, gap: step.timeToNext,
                present: batch.hasEqualLengths ? nil : step.isPresent)
            predictions.append(output(hidden))
        }
        return (
            Tensor.stacked(predictions, alongAxis: 0),
            Tensor.stacked(steps.dropFirst().map(\.values), alongAxis: 0),
            Tensor.stacked(steps.dropFirst().map(\.mask), alongAxis: 0)
        )
    }

    /// Computes the one-step-ahead Gaussian negative log-likelihood of each series, `[batch]`: the sum
    /// over steps `i ≥ 1` and observed channels of `−log N(x_i | x̂_i, σ²)`, where `x̂_i` is
    /// predicted from the observations before step `i`.
    public func negativeLogLikelihood(
        _ batch: IrregularBatch, observationStandardDeviation: Double
    ) -> Tensor<Scalar> {
        guard let (predicted, targets, masks) = oneStepPredictions(batch) else {
            return Tensor(zeros: [batch.batchSize])
        }
        let logVariance = Tensor<Scalar>(Scalar(2 * Foundation.log(observationStandardDeviation)))
        let density = gaussianLogDensity(x: targets, mean: predicted, logVariance: logVariance)
        return -(density * masks).sum(alongAxes: [0, 2])
    }

    /// Reads every observation of the batch, then predicts the values at `futureTimes`, each
    /// after the series' last observation, feeding each prediction back as the next input.
    ///
    /// - Returns: `[futureTimes.count, batch, channels]`.
    /// - Precondition: `futureTimes` is increasing and after every series' last observation.
    public func forecast(_ batch: IrregularBatch, at futureTimes: [Double]) -> Tensor<Scalar> {
        precondition(!futureTimes.isEmpty, "RecurrentForecaster.forecast: no future times")
        for (b, last) in batch.lastTimes.enumerated() {
            precondition(
                futureTimes[0] > last,
                "RecurrentForecaster.forecast: the first future time \(futureTimes[0]) is not after the last observation \(last) of series \(batch.indices[b])")
        }
        let steps = batch.steps.map(ScalarStep<Scalar>.init)
        var hidden = cell.zeroState(batchSize: batch.batchSize)
        for (index, step) in steps.enumerated() {
            // The last real step of each series looks ahead to the first future time.
            let gaps = Tensor<Scalar>(shape: [batch.batchSize, 1]) { out in
                step.timeToNext.withUnsafeBufferPointer { toNext in
                    for b in 0..<batch.batchSize {
                        out[b] = index == batch.lengths[b] - 1 ? Scalar(futureTimes[0] - batch.lastTimes[b]) : toNext[b]
                    }
                }
            }
            hidden = advance(
                hidden, values: step.values, mask: step.mask, gap: gaps,
                present: batch.hasEqualLengths ? nil : step.isPresent)
        }
        var predictions = [output(hidden)]
        let fullMask = Tensor<Scalar>(ones: [batch.batchSize, channelCount])
        for k in 1..<futureTimes.count {
            let gap = Tensor<Scalar>(repeating: Scalar(futureTimes[k] - futureTimes[k - 1]), shape: [batch.batchSize, 1])
            hidden = advance(hidden, values: predictions[k - 1], mask: fullMask, gap: gap, present: nil)
            predictions.append(output(hidden))
        }
        return Tensor.stacked(predictions, alongAxis: 0)
    }
}

/// A batch step converted to the model's scalar type.
struct ScalarStep<Scalar: TensorScalar> {
    let values: Tensor<Scalar>
    let mask: Tensor<Scalar>
    let isPresent: Tensor<Scalar>
    let timeSincePrevious: Tensor<Scalar>
    let timeToNext: Tensor<Scalar>

    init(_ step: IrregularBatch.Step) {
        values = converting(step.values)
        mask = converting(step.mask)
        isPresent = converting(step.isPresent)
        timeSincePrevious = converting(step.timeSincePrevious)
        timeToNext = converting(step.timeToNext)
    }
}

/// Returns `tensor` itself when `Scalar` is `Float`, else a converted copy.
func converting<Scalar: TensorScalar>(_ tensor: Tensor<Float>) -> Tensor<Scalar> {
    (tensor as? Tensor<Scalar>) ?? tensor.converted(to: Scalar.self)
}
