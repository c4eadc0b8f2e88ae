import Foundation
import TensorEngine

/// The two-dimensional test densities `p(z) ∝ exp(-U(z))` of Rezende and Mohamed, "Variational
/// Inference with Normalizing Flows" (ICML 2015, Table 1), which Chen et al. (NeurIPS 2018,
/// Figure 4) use to compare planar flows with continuous ones. The formulas were checked
/// against the PyTorch replication `JamesAllingham/PyTorch-CNF` (`src/energy_functions.py`).
/// With `w₁(z) = sin(2π z₁/4)`, `w₂(z) = 3 exp(-½((z₁ - 1)/0.6)²)` and
/// `w₃(z) = 3 σ((z₁ - 1)/0.3)`:
///
/// | case | energy `U(z)` |
/// | --- | --- |
/// | `u1` | `½((‖z‖ - 2)/0.4)² - log(exp(-½((z₁ - 2)/0.6)²) + exp(-½((z₁ + 2)/0.6)²))` |
/// | `u2` | `½((z₂ - w₁)/0.4)²` |
/// | `u3` | `-log(exp(-½((z₂ - w₁)/0.35)²) + exp(-½((z₂ - w₁ + w₂)/0.35)²))` |
/// | `u4` | `-log(exp(-½((z₂ - w₁)/0.4)²) + exp(-½((z₂ - w₁ + w₃)/0.35)²))` |
///
/// The normalising constants are unknown, and `u2` to `u4` are not normalisable on the whole
/// plane because they do not decay along `z₁`. Density matching only needs `U`.
public enum TargetDensity: String, Sendable, CaseIterable {
    case u1, u2, u3, u4

    /// Looks a target up by its name (`u1` … `u4`).
    ///
    /// - Throws: `CNFExperimentError.unknownName` listing the valid names.
    public init(named name: String) throws(CNFExperimentError) {
        guard let target = TargetDensity(rawValue: name.lowercased()) else {
            throw .unknownName(kind: "target density", name: name, valid: Self.allCases.map(\.rawValue))
        }
        self = target
    }

    /// Returns `U(z)` for `z` of shape `[batch, 2]`, shape `[batch]`, from differentiable
    /// operations.
    public func energy<Scalar: TensorScalar>(_ z: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(z.rank == 2 && z.shape[1] == 2, "TargetDensity.energy: z must have shape [batch, 2], got \(z.shape)")
        let z1 = z.slice(alongAxis: 1, 0..<1).reshaped(to: [-1])
        let z2 = z.slice(alongAxis: 1, 1..<2).reshaped(to: [-1])
        let w1 = (z1 * Scalar(2 * Double.pi / 4)).sin()
        switch self {
        case .u1:
            let radius = z.squared().sum(alongAxis: 1).sqrt()
            let ring = halfSquare(radius - 2, scale: 0.4)
            return ring - logSumExp(-halfSquare(z1 - 2, scale: 0.6), -halfSquare(z1 + 2, scale: 0.6))
        case .u2:
            return halfSquare(z2 - w1, scale: 0.4)
        case .u3:
            let w2 = (-halfSquare(z1 - 1, scale: 0.6)).exp() * 3
            return -logSumExp(-halfSquare(z2 - w1, scale: 0.35), -halfSquare(z2 - w1 + w2, scale: 0.35))
        case .u4:
            let w3 = ((z1 - 1) * Scalar(1 / 0.3)).sigmoid() * 3
            return -logSumExp(-halfSquare(z2 - w1, scale: 0.4), -halfSquare(z2 - w1 + w3, scale: 0.35))
        }
    }

    /// `½ (x / scale)²`.
    private func halfSquare<Scalar>(_ x: Tensor<Scalar>, scale: Double) -> Tensor<Scalar> {
        x.squared() * Scalar(0.5 / (scale * scale))
    }

    /// `log(exp(a) + exp(b))` without overflow.
    private func logSumExp<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> {
        Tensor.stacked([a, b], alongAxis: 1).logSumExp(alongAxis: 1)
    }
}

/// An error in the settings of a continuous-normalizing-flow experiment.
public enum CNFExperimentError: Error, CustomStringConvertible, Equatable {
    /// A dataset, target density or other name that does not exist.
    case unknownName(kind: String, name: String, valid: [String])

    public var description: String {
        switch self {
        case let .unknownName(kind, name, valid):
            "unknown \(kind) '\(name)'; valid names: \(valid.joined(separator: ", "))"
        }
    }
}
