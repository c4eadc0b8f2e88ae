import Foundation
import TensorEngine

/// Settings of the bi-directional spiral data set of Chen et al., "Neural Ordinary Differential
/// Equations" (NeurIPS 2018), Section 5.1.
///
/// The shapes follow `generate_spiral2d` in torchdiffeq's `examples/latent_ode.py` (facts
/// only), with the values its script passes (`start = 0`, `stop = 6π`, `a = 0`, `b = 0.3`,
/// `ntotal = 1000`, `nsample = 100`). Both spirals are sampled on one grid of `gridCount`
/// angles `θ_k` evenly spaced on `[startAngle, stopAngle]`:
///
/// - counter-clockwise: `z = θ_k`, radius `a + b z`, point `(r cos z + 5, r sin z)`, an
///   Archimedean spiral around `(5, 0)` whose angle grows with time;
/// - clockwise: `z = stopAngle + 1 − θ_k`, radius `a + 50 b / z`, point `(r cos z − 5, r sin z)`,
///   a hyperbolic spiral around `(−5, 0)` whose angle shrinks with time.
///
/// Each spiral starts at a random grid index and is observed at the next
/// `observedCount + extrapolatedCount` grid points, at times `0, Δ, 2Δ, …` with
/// `Δ = (stopAngle − startAngle) / (gridCount − 1)`. Gaussian noise is added to every point.
///
/// torchdiffeq's function defaults to a noise standard deviation of 0.1 and its script passes
/// 0.3, and this configuration defaults to 0.1. The script draws each direction with
/// probability one half. Here exactly half of the spirals turn each way, in random order, with
/// one more clockwise spiral when the count is odd.
public struct BidirectionalSpiralConfiguration: Sendable, Equatable {
    public var spiralCount = 1000
    /// Number of angles on the shared grid (`ntotal`).
    public var gridCount = 1000
    /// Points per spiral from which training observations are drawn (`nsample`).
    public var observedCount = 100
    /// Points after the observed ones, held out for extrapolation.
    public var extrapolatedCount = 100
    public var startAngle = 0.0
    public var stopAngle = 6 * Double.pi
    /// Offset `a` of the radius.
    public var radiusOffset = 0.0
    /// Growth rate `b` of the radius.
    public var radiusGrowth = 0.3
    /// Standard deviation of the Gaussian observation noise.
    public var noiseStandardDeviation = 0.1
    public var seed: UInt64 = 0

    public init() {}

    /// Distance `Δ` between consecutive grid times.
    public var timeStep: Double { (stopAngle - startAngle) / Double(gridCount - 1) }

    /// Points of each spiral, observed and held out.
    public var pointsPerSpiral: Int { observedCount + extrapolatedCount }
}

/// The bi-directional spiral data set: noise-free and noisy points of clockwise and
/// counter-clockwise spirals; see `BidirectionalSpiralConfiguration`.
public struct BidirectionalSpirals: Sendable {
    public let configuration: BidirectionalSpiralConfiguration
    /// Times of the points of each spiral, `0, Δ, …`; `pointsPerSpiral` values.
    public let times: [Double]
    /// Noise-free points, `[spiralCount, pointsPerSpiral, 2]` row-major.
    public let truth: [Float]
    /// Points with observation noise, in the layout of `truth`.
    public let observations: [Float]
    /// Whether each spiral turns clockwise.
    public let isClockwise: [Bool]
    /// Grid index of each spiral's first point.
    public let startIndices: [Int]

    /// Generates the spirals from `configuration.seed`.
    ///
    /// - Precondition: the counts are positive and the grid is long enough for the observed
    ///   and held-out points after the first `observedCount` grid points, which are never a start.
    public init(configuration: BidirectionalSpiralConfiguration) {
        let c = configuration
        precondition(c.spiralCount > 0, "BidirectionalSpirals: spiralCount must be positive, got \(c.spiralCount)")
        precondition(
            c.observedCount > 0 && c.extrapolatedCount >= 0,
            "BidirectionalSpirals: observedCount must be positive and extrapolatedCount non-negative, got \(c.observedCount) and \(c.extrapolatedCount)")
        let firstStart = c.observedCount
        let lastStart = c.gridCount - c.pointsPerSpiral
        precondition(
            lastStart >= firstStart,
            "BidirectionalSpirals: a grid of \(c.gridCount) points is too short for starts after the first \(c.observedCount) points and \(c.pointsPerSpiral) points per spiral; use gridCount ≥ \(c.observedCount + c.pointsPerSpiral)")
        precondition(
            c.stopAngle > c.startAngle && c.noiseStandardDeviation >= 0,
            "BidirectionalSpirals: need stopAngle > startAngle and a non-negative noise, got [\(c.startAngle), \(c.stopAngle)] and \(c.noiseStandardDeviation)")
        self.configuration = c
        let points = c.pointsPerSpiral
        times = (0..<points).map { Double($0) * c.timeStep }

        let clockwisePath = Self.path(clockwise: true, c)
        let counterClockwisePath = Self.path(clockwise: false, c)

        var generator = RandomGenerator(seed: c.seed)
        // Exactly half of each direction, in random order.
        let clockwiseCount = (c.spiralCount + 1) / 2
        let order = BatchSampler.shuffled(count: c.spiralCount, using: &generator)
        var isClockwise = [Bool](repeating: false, count: c.spiralCount)
        for position in order.prefix(clockwiseCount) { isClockwise[position] = true }

        var truth = [Float](repeating: 0, count: c.spiralCount * points * 2)
        var observations = truth
        var startIndices: [Int] = []
        for spiral in 0..<c.spiralCount {
            let start = firstStart + generator.nextInt(below: lastStart - firstStart + 1)
            startIndices.append(start)
            let path = isClockwise[spiral] ? clockwisePath : counterClockwisePath
            for point in 0..<points {
                for axis in 0..<2 {
                    let index = (spiral * points + point) * 2 + axis
                    let value = path[(start + point) * 2 + axis]
                    truth[index] = Float(value)
                    observations[index] = Float(value + c.noiseStandardDeviation * generator.nextNormal())
                }
            }
        }
        self.truth = truth
        self.observations = observations
        self.isClockwise = isClockwise
        self.startIndices = startIndices
    }

    /// Computes the whole grid path `[gridCount, 2]` of one direction.
    static func path(clockwise: Bool, _ c: BidirectionalSpiralConfiguration) -> [Double] {
        var path: [Double] = []
        path.reserveCapacity(2 * c.gridCount)
        for k in 0..<c.gridCount {
            let theta = c.startAngle + Double(k) * c.timeStep
            let angle = clockwise ? c.stopAngle + 1 - theta : theta
            let radius = clockwise ? c.radiusOffset + 50 * c.radiusGrowth / angle : c.radiusOffset + c.radiusGrowth * angle
            let centre = clockwise ? -5.0 : 5.0
            path.append(radius * Foundation.cos(angle) + centre)
            path.append(radius * Foundation.sin(angle))
        }
        return path
    }

    public var spiralCount: Int { configuration.spiralCount }

    /// Returns the noise-free (or, with `noisy`, the observed) point `point` of `spiral` as `(x, y)`.
    public func point(spiral: Int, point: Int, noisy: Bool = false) -> (x: Double, y: Double) {
        let index = (spiral * configuration.pointsPerSpiral + point) * 2
        let source = noisy ? observations : truth
        return (Double(source[index]), Double(source[index + 1]))
    }

    /// Draws `count` of the first `observedCount` points of each spiral in `spirals`, without
    /// replacement and in time order, as an irregular dataset with channels `x` and `y`.
    ///
    /// Series are named by their spiral's index. The draws come from `seed` alone, so the same
    /// seed keeps the same points whichever spirals are asked for in one call.
    ///
    /// - Precondition: `count` is in `1...observedCount` and the spirals exist.
    public func irregularObservations(count: Int, spirals: Range<Int>? = nil, seed: UInt64) -> IrregularTimeSeriesDataset {
        let observed = configuration.observedCount
        precondition(
            count >= 1 && count <= observed,
            "BidirectionalSpirals.irregularObservations: count must be in 1...\(observed), got \(count)")
        let range = spirals ?? 0..<spiralCount
        precondition(
            range.lowerBound >= 0 && range.upperBound <= spiralCount,
            "BidirectionalSpirals.irregularObservations: spirals \(range) outside 0..<\(spiralCount)")
        var generator = RandomGenerator(seed: seed)
        var series: [IrregularTimeSeries] = []
        for spiral in 0..<range.upperBound {
            let chosen = Self.sampleWithoutReplacement(count, from: observed, using: &generator)
            guard range.contains(spiral) else { continue }
            var values: [Float] = []
            values.reserveCapacity(2 * count)
            for point in chosen {
                let index = (spiral * configuration.pointsPerSpiral + point) * 2
                values.append(observations[index])
                values.append(observations[index + 1])
            }
            series.append(
                IrregularTimeSeries(
                    id: "\(spiral)", times: chosen.map { times[$0] }, values: values, channelCount: 2))
        }
        return IrregularTimeSeriesDataset(channelNames: ["x", "y"], series: series)
    }

    /// Returns `count` distinct indices from `0..<population` in increasing order (a partial
    /// Fisher–Yates shuffle).
    public static func sampleWithoutReplacement(
        _ count: Int, from population: Int, using generator: inout RandomGenerator
    ) -> [Int] {
        precondition(
            count >= 0 && count <= population,
            "sampleWithoutReplacement: cannot draw \(count) of \(population)")
        var pool = Array(0..<population)
        for i in 0..<count {
            pool.swapAt(i, i + generator.nextInt(below: population - i))
        }
        return pool.prefix(count).sorted()
    }

    /// Times of the held-out points, after the observed ones.
    public var extrapolationTimes: [Double] { Array(times[configuration.observedCount...]) }

    /// Returns the held-out points of `spirals`, `[extrapolatedCount, spirals.count, 2]`:
    /// noise-free, or with `noisy` the noisy observations.
    public func extrapolationTargets(spirals: [Int], noisy: Bool = false) -> Tensor<Float> {
        let observed = configuration.observedCount
        let held = configuration.extrapolatedCount
        let source = noisy ? observations : truth
        return Tensor(shape: [held, spirals.count, 2]) { out in
            for step in 0..<held {
                for (b, spiral) in spirals.enumerated() {
                    let index = (spiral * configuration.pointsPerSpiral + observed + step) * 2
                    out[(step * spirals.count + b) * 2] = source[index]
                    out[(step * spirals.count + b) * 2 + 1] = source[index + 1]
                }
            }
        }
    }
}
