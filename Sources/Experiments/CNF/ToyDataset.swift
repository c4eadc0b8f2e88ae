import Foundation
import TensorEngine

/// Two-dimensional toy datasets for maximum-likelihood training of density models, drawn
/// afresh from a seeded generator, so a run sees unlimited data and is reproducible.
///
/// The shapes follow the usual definitions (facts from scikit-learn's `make_circles` and
/// `make_moons`, and from the toy data of FFJORD, Grathwohl et al. 2019), except that the
/// circle and moon angles are drawn uniformly at random instead of evenly spaced:
///
/// | case | points |
/// | --- | --- |
/// | `twoCircles` | half on the unit circle, half on the circle of radius 0.5, plus N(0, 0.06²) noise per coordinate; the two-circles set of torchdiffeq's CNF example |
/// | `twoMoons` | `(cos θ, sin θ)` and `(1 - cos θ, 0.5 - sin θ)` for θ uniform in [0, π], plus N(0, 0.1²) noise, then scaled by 2 and shifted by (-1, -0.2) |
/// | `eightGaussians` | N(c, 0.5²) around one of 8 centres at radius 4 on the axes and diagonals, all divided by 1.414 |
/// | `pinwheel` | 5 arms: radial N(1, 0.3²) and tangential N(0, 0.1²) coordinates rotated clockwise by `2πk/5 + 0.25 exp(radial)`, scaled by 2 |
/// | `checkerboard` | uniform on the 8 dark squares of a 4 × 4 board of side-2 squares centred at the origin |
public enum ToyDataset: String, Sendable, CaseIterable {
    case twoCircles = "circles"
    case twoMoons = "moons"
    case eightGaussians = "8gaussians"
    case pinwheel
    case checkerboard

    /// Looks a dataset up by its command-line name (`circles`, `moons`, `8gaussians`,
    /// `pinwheel`, `checkerboard`).
    ///
    /// - Throws: `CNFExperimentError.unknownName` listing the valid names.
    public init(named name: String) throws(CNFExperimentError) {
        guard let dataset = ToyDataset(rawValue: name.lowercased()) else {
            throw .unknownName(kind: "dataset", name: name, valid: Self.allCases.map(\.rawValue))
        }
        self = dataset
    }

    /// The half-side of the square `[-extent, extent]²` that contains nearly all the points,
    /// for pictures.
    public var extent: Double {
        switch self {
        case .twoCircles: 1.5
        case .twoMoons: 3.5
        case .eightGaussians: 4
        case .pinwheel: 4
        case .checkerboard: 4
        }
    }

    /// Draws `count` points, shape `[count, 2]`.
    public func sample<Scalar: TensorScalar>(count: Int, generator: inout RandomGenerator) -> Tensor<Scalar> {
        precondition(count > 0, "ToyDataset.sample: count must be positive, got \(count)")
        var values = [Scalar]()
        values.reserveCapacity(2 * count)
        for _ in 0..<count {
            let (x, y) = point(generator: &generator)
            values.append(Scalar(x))
            values.append(Scalar(y))
        }
        return Tensor(shape: [count, 2], scalars: values)
    }

    private func point(generator: inout RandomGenerator) -> (Double, Double) {
        switch self {
        case .twoCircles:
            let radius = generator.nextInt(below: 2) == 0 ? 1.0 : 0.5
            let angle = 2 * Double.pi * generator.nextUniform()
            return (radius * cos(angle) + 0.06 * generator.nextNormal(), radius * sin(angle) + 0.06 * generator.nextNormal())
        case .twoMoons:
            let angle = Double.pi * generator.nextUniform()
            let upper = generator.nextInt(below: 2) == 0
            var x = upper ? cos(angle) : 1 - cos(angle)
            var y = upper ? sin(angle) : 0.5 - sin(angle)
            x += 0.1 * generator.nextNormal()
            y += 0.1 * generator.nextNormal()
            return (2 * x - 1, 2 * y - 0.2)
        case .eightGaussians:
            let angle = Double(generator.nextInt(below: 8)) * Double.pi / 4
            let x = 4 * cos(angle) + 0.5 * generator.nextNormal()
            let y = 4 * sin(angle) + 0.5 * generator.nextNormal()
            return (x / 1.414, y / 1.414)
        case .pinwheel:
            let arm = Double(generator.nextInt(below: 5))
            let radial = 1 + 0.3 * generator.nextNormal()
            let tangential = 0.1 * generator.nextNormal()
            let angle = 2 * Double.pi * arm / 5 + 0.25 * exp(radial)
            let x = radial * cos(angle) + tangential * sin(angle)
            let y = -radial * sin(angle) + tangential * cos(angle)
            return (2 * x, 2 * y)
        case .checkerboard:
            let x = 4 * generator.nextUniform() - 2
            let row = generator.nextUniform() - 2 * Double(generator.nextInt(below: 2))
            let y = row + (floor(x).truncatingRemainder(dividingBy: 2) == 0 ? 0 : 1)
            return (2 * x, 2 * y)
        }
    }
}
