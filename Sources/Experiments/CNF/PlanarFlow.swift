import Foundation
import NeuralNetworks
import TensorEngine

/// A planar normalizing flow (Rezende and Mohamed, "Variational Inference with Normalizing
/// Flows", ICML 2015, Section 4.1): `K` layers `f(z) = z + û h(wᵀz + b)` with `h = tanh`,
/// the discrete baseline of Chen et al. (NeurIPS 2018, Figure 4).
///
/// Each layer changes the log-density by `-log|1 + ûᵀψ(z)|` with `ψ(z) = h'(wᵀz + b) w`.
/// Each layer uses `û = u + (m(wᵀu) - wᵀu) w / ‖w‖²` with `m(x) = -1 + log(1 + eˣ)` in place
/// of the stored `u`, so that `wᵀû > -1` and the layer is invertible. The flow has no closed-form
/// inverse, so its density is known only at its own samples.
public final class PlanarFlow<Scalar: TensorScalar>: Module {
    /// The `u` of each layer, `[K, d]`.
    @Parameter public var u: Tensor<Scalar>
    /// The `w` of each layer, `[K, d]`.
    @Parameter public var w: Tensor<Scalar>
    /// The `b` of each layer, `[K]`.
    @Parameter public var b: Tensor<Scalar>

    /// The number of layers `K`.
    public var layerCount: Int { u.shape[0] }
    /// The dimension `d` of the points.
    public var dimension: Int { u.shape[1] }

    /// Creates `layerCount` layers with `u` and `w` drawn from N(0, 0.1²) and `b` at zero,
    /// so that the untrained flow is close to the identity.
    ///
    /// - Precondition: `layerCount` and `dimension` are positive.
    public init(layerCount: Int, dimension: Int, generator: inout RandomGenerator) {
        precondition(
            layerCount > 0 && dimension > 0,
            "PlanarFlow: layerCount and dimension must be positive, got \(layerCount) and \(dimension)")
        u = Tensor(randomNormal: [layerCount, dimension], standardDeviation: 0.1, generator: &generator)
        w = Tensor(randomNormal: [layerCount, dimension], standardDeviation: 0.1, generator: &generator)
        b = Tensor(zeros: [layerCount])
    }

    /// Moves the points `z` `[batch, d]` through every layer.
    ///
    /// - Returns: The moved points `[batch, d]` and `Σₖ log|det ∂fₖ/∂z|` `[batch]`, so that
    ///   `log q(f(z)) = log p(z) - logDeterminant`.
    public func callAsFunction(_ z: Tensor<Scalar>) -> (points: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
        precondition(
            z.rank == 2 && z.shape[1] == dimension,
            "PlanarFlow: z must have shape [batch, \(dimension)], got \(z.shape)")
        var points = z
        var logDeterminant: Tensor<Scalar>?
        for layer in 0..<layerCount {
            let uLayer = u.slice(alongAxis: 0, layer..<(layer + 1))
            let wLayer = w.slice(alongAxis: 0, layer..<(layer + 1))
            let bLayer = b.slice(alongAxis: 0, layer..<(layer + 1))
            let uHat = invertible(u: uLayer, w: wLayer)
            let activation = (matmul(points, wLayer, transposeB: true) + bLayer).tanh()
            points = points + activation * uHat
            // ûᵀψ(z) = (1 - h²) wᵀû, one value per point.
            let slope = (1 - activation.squared()) * (wLayer * uHat).sum()
            let term = (1 + slope).abs().log().reshaped(to: [-1])
            logDeterminant = logDeterminant.map { $0 + term } ?? term
        }
        return (points, logDeterminant!)
    }

    /// `û = u + (m(wᵀu) - wᵀu) w / ‖w‖²` for one layer's `u`, `w` of shape `[1, d]`.
    private func invertible(u: Tensor<Scalar>, w: Tensor<Scalar>) -> Tensor<Scalar> {
        let dot = (w * u).sum()
        let correction = (dot.softplus() - 1 - dot) / w.squared().sum()
        return u + w * correction
    }
}
