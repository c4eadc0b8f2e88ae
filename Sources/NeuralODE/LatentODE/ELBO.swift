import Foundation
import TensorEngine

/// The terms of the evidence lower bound of a latent ODE for each series of a batch:
///
/// ```
/// ELBO = Σ_i Σ_c m_ic log N(x_ic | x̂_ic, σ²)  −  KL(N(μ, diag σ_q²) ‖ N(0, I))
/// ```
///
/// where `m` is the observation mask, `x̂` the decoded prediction, `σ` the fixed observation
/// standard deviation, and `μ, σ_q²` the posterior of `z₀` from the recognition network. The
/// first term is a one-sample Monte Carlo estimate of the expected log-likelihood, because
/// `x̂` comes from one reparameterised draw of `z₀`.
public struct LatentELBO<Scalar: TensorScalar> {
    /// Log-likelihood of the observed values of each series, `[batch]`.
    public let logLikelihood: Tensor<Scalar>
    /// KL divergence of each series' posterior from the standard normal prior, `[batch]`.
    public let klDivergence: Tensor<Scalar>

    /// The training loss: the negative ELBO averaged over the batch, a scalar tensor.
    public var loss: Tensor<Scalar> { (klDivergence - logLikelihood).mean() }

    /// Computes the terms.
    ///
    /// - Parameters:
    ///   - observations: Observed values `[times, batch, channels]`; any value where masked out.
    ///   - mask: 1 for observed and 0 for missing entries, the shape of `observations`.
    ///   - predictions: Decoded means, the shape of `observations`.
    ///   - observationStandardDeviation: `σ` of the Gaussian likelihood.
    ///   - posteriorMean: `μ`, `[batch, latent]`.
    ///   - posteriorLogVariance: `log σ_q²`, `[batch, latent]`.
    /// - Precondition: the shapes are as listed and `σ` is positive.
    public init(
        observations: Tensor<Scalar>, mask: Tensor<Scalar>, predictions: Tensor<Scalar>,
        observationStandardDeviation: Double, posteriorMean: Tensor<Scalar>, posteriorLogVariance: Tensor<Scalar>
    ) {
        precondition(
            observations.rank == 3 && mask.shape == observations.shape && predictions.shape == observations.shape,
            "LatentELBO: observations \(observations.shape), mask \(mask.shape) and predictions \(predictions.shape) must share one shape [times, batch, channels]")
        precondition(
            posteriorMean.rank == 2 && posteriorLogVariance.shape == posteriorMean.shape
                && posteriorMean.shape[0] == observations.shape[1],
            "LatentELBO: posterior mean \(posteriorMean.shape) and log-variance \(posteriorLogVariance.shape) must be [batch, latent] with batch \(observations.shape[1])")
        precondition(
            observationStandardDeviation > 0 && observationStandardDeviation.isFinite,
            "LatentELBO: the observation standard deviation must be positive, got \(observationStandardDeviation)")
        let logVariance = Tensor<Scalar>(Scalar(2 * Foundation.log(observationStandardDeviation)))
        let density = gaussianLogDensity(x: observations, mean: predictions, logVariance: logVariance)
        logLikelihood = (density * mask).sum(alongAxes: [0, 2])
        klDivergence = Self.standardNormalKL(mean: posteriorMean, logVariance: posteriorLogVariance)
    }

    /// Computes the terms from a list of observed rows instead of a full grid, so that the
    /// decoder runs only where there is data.
    ///
    /// - Parameters:
    ///   - observations: Observed values `[rows, channels]`.
    ///   - mask: 1 for observed and 0 for missing entries, `[rows, channels]`.
    ///   - predictions: Decoded means, `[rows, channels]`.
    ///   - series: The series (in `0..<batchSize`) of each row.
    ///   - observationStandardDeviation, posteriorMean, posteriorLogVariance: As for the grid form.
    /// - Precondition: the shapes are as listed, every series index is valid, and `σ` is positive.
    public init(
        observations: Tensor<Scalar>, mask: Tensor<Scalar>, predictions: Tensor<Scalar>, series: [Int],
        observationStandardDeviation: Double, posteriorMean: Tensor<Scalar>, posteriorLogVariance: Tensor<Scalar>
    ) {
        precondition(
            observations.rank == 2 && mask.shape == observations.shape && predictions.shape == observations.shape
                && series.count == observations.shape[0],
            "LatentELBO: observations \(observations.shape), mask \(mask.shape) and predictions \(predictions.shape) must share one shape [rows, channels] with one series index per row (\(series.count))")
        precondition(
            posteriorMean.rank == 2 && posteriorLogVariance.shape == posteriorMean.shape,
            "LatentELBO: posterior mean \(posteriorMean.shape) and log-variance \(posteriorLogVariance.shape) must be [batch, latent]")
        precondition(
            observationStandardDeviation > 0 && observationStandardDeviation.isFinite,
            "LatentELBO: the observation standard deviation must be positive, got \(observationStandardDeviation)")
        let logVariance = Tensor<Scalar>(Scalar(2 * Foundation.log(observationStandardDeviation)))
        let density = gaussianLogDensity(x: observations, mean: predictions, logVariance: logVariance)
        logLikelihood = (density * mask).sum(alongAxis: 1).scatterAdded(indices: series, size: posteriorMean.shape[0])
        klDivergence = Self.standardNormalKL(mean: posteriorMean, logVariance: posteriorLogVariance)
    }

    /// `KL(N(μ, diag σ²) ‖ N(0, I))` of each row, `[batch]`.
    static func standardNormalKL(mean: Tensor<Scalar>, logVariance: Tensor<Scalar>) -> Tensor<Scalar> {
        let zero = Tensor<Scalar>(0)
        return klDivergenceDiagonalGaussians(mean1: mean, logVariance1: logVariance, mean2: zero, logVariance2: zero)
            .sum(alongAxis: 1)
    }
}
