import Datasets
import Foundation
import TensorEngine
import Testing

@Suite("Bi-directional spirals")
struct LatentSpiralDataTests {
    static func smallConfiguration(count: Int = 40, noise: Double = 0.1, seed: UInt64 = 3) -> BidirectionalSpiralConfiguration {
        var configuration = BidirectionalSpiralConfiguration()
        configuration.spiralCount = count
        configuration.noiseStandardDeviation = noise
        configuration.seed = seed
        return configuration
    }

    @Test("arrays have the documented shapes")
    func shapes() {
        let spirals = BidirectionalSpirals(configuration: Self.smallConfiguration())
        #expect(spirals.times.count == 200)
        #expect(spirals.truth.count == 40 * 200 * 2)
        #expect(spirals.observations.count == 40 * 200 * 2)
        #expect(spirals.isClockwise.count == 40)
        #expect(spirals.startIndices.count == 40)
        #expect(spirals.extrapolationTimes.count == 100)
        #expect(spirals.extrapolationTargets(spirals: [0, 5, 7]).shape == [100, 3, 2])
    }

    @Test("times are evenly spaced by 6π/999 from 0")
    func times() {
        let spirals = BidirectionalSpirals(configuration: Self.smallConfiguration())
        let step = 6 * Double.pi / 999
        for (index, time) in spirals.times.enumerated() {
            #expect(abs(time - Double(index) * step) < 1e-12)
        }
        #expect(abs(spirals.extrapolationTimes[0] - 100 * step) < 1e-12)
    }

    @Test("exactly half of the spirals turn clockwise")
    func balancedDirections() {
        let spirals = BidirectionalSpirals(configuration: Self.smallConfiguration(count: 40))
        #expect(spirals.isClockwise.filter { $0 }.count == 20)
        let odd = BidirectionalSpirals(configuration: Self.smallConfiguration(count: 7))
        #expect(odd.isClockwise.filter { $0 }.count == 4)
    }

    @Test("angular velocity about the centre has the spiral's sign")
    func directions() {
        let spirals = BidirectionalSpirals(configuration: Self.smallConfiguration())
        for spiral in 0..<spirals.spiralCount {
            let clockwise = spirals.isClockwise[spiral]
            let centre = clockwise ? -5.0 : 5.0
            var signs = Set<Bool>()
            for point in 0..<(spirals.times.count - 1) {
                let a = spirals.point(spiral: spiral, point: point)
                let b = spirals.point(spiral: spiral, point: point + 1)
                // z-component of (a − c) × (b − a): positive for counter-clockwise motion.
                let cross = (a.x - centre) * (b.y - a.y) - a.y * (b.x - a.x)
                signs.insert(cross > 0)
            }
            #expect(signs == [!clockwise], "spiral \(spiral) (clockwise: \(clockwise))")
        }
    }

    @Test("noise-free points follow torchdiffeq's spiral formulas")
    func formulas() {
        let configuration = Self.smallConfiguration()
        let spirals = BidirectionalSpirals(configuration: configuration)
        let step = 6 * Double.pi / 999
        for spiral in 0..<6 {
            let start = spirals.startIndices[spiral]
            #expect(start >= 100)
            #expect(start <= 800)
            for point in [0, 57, 199] {
                let theta = Double(start + point) * step
                let expected: (Double, Double)
                if spirals.isClockwise[spiral] {
                    let z = 6 * Double.pi + 1 - theta
                    let r = 50 * 0.3 / z
                    expected = (r * cos(z) - 5, r * sin(z))
                } else {
                    let r = 0.3 * theta
                    expected = (r * cos(theta) + 5, r * sin(theta))
                }
                let actual = spirals.point(spiral: spiral, point: point)
                #expect(abs(actual.x - expected.0) < 1e-5)
                #expect(abs(actual.y - expected.1) < 1e-5)
            }
        }
    }

    @Test("observation noise has the configured standard deviation and zero mean")
    func noiseLevel() {
        let spirals = BidirectionalSpirals(configuration: Self.smallConfiguration(count: 200, noise: 0.1, seed: 11))
        let noise = zip(spirals.observations, spirals.truth).map { Double($0) - Double($1) }
        let mean = noise.reduce(0, +) / Double(noise.count)
        let variance = noise.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(noise.count - 1)
        // 80,000 draws: the standard error of the standard deviation is about 0.1/400.
        #expect(abs(variance.squareRoot() - 0.1) < 0.002)
        #expect(abs(mean) < 0.002)
        let noiseless = BidirectionalSpirals(configuration: Self.smallConfiguration(noise: 0))
        #expect(noiseless.observations == noiseless.truth)
    }

    @Test("the same seed gives the same spirals")
    func determinism() {
        let a = BidirectionalSpirals(configuration: Self.smallConfiguration(seed: 5))
        let b = BidirectionalSpirals(configuration: Self.smallConfiguration(seed: 5))
        let c = BidirectionalSpirals(configuration: Self.smallConfiguration(seed: 6))
        #expect(a.observations == b.observations)
        #expect(a.observations != c.observations)
    }

    @Test("subsampling keeps distinct sorted times of the observed window")
    func subsampling() throws {
        let spirals = BidirectionalSpirals(configuration: Self.smallConfiguration())
        let dataset = spirals.irregularObservations(count: 30, seed: 9)
        #expect(dataset.series.count == 40)
        #expect(dataset.channelNames == ["x", "y"])
        var draws = Set<[Double]>()
        for (spiral, series) in dataset.series.enumerated() {
            #expect(series.id == "\(spiral)")
            #expect(series.times.count == 30)
            #expect(Set(series.times).count == 30)
            #expect(series.times == series.times.sorted())
            #expect(series.times.first! >= 0)
            #expect(series.times.last! <= spirals.times[99])
            for (i, time) in series.times.enumerated() {
                let point = try #require(spirals.times.firstIndex(of: time))
                let observed = spirals.point(spiral: spiral, point: point, noisy: true)
                #expect(Double(series.values[2 * i]) == observed.x)
                #expect(Double(series.values[2 * i + 1]) == observed.y)
            }
            draws.insert(series.times)
        }
        // Each spiral draws its own times.
        #expect(draws.count > 30)
        #expect(spirals.irregularObservations(count: 100, seed: 9).series[0].times == Array(spirals.times[0..<100]))
    }

    @Test("subsampling a range draws what the whole set draws")
    func subsamplingRange() {
        let spirals = BidirectionalSpirals(configuration: Self.smallConfiguration())
        let whole = spirals.irregularObservations(count: 50, seed: 4)
        let part = spirals.irregularObservations(count: 50, spirals: 30..<40, seed: 4)
        #expect(part.series.map(\.id) == (30..<40).map { "\($0)" })
        #expect(part.series == Array(whole.series[30..<40]))
    }

    @Test("sampling without replacement covers the population uniformly")
    func sampleWithoutReplacement() {
        var generator = RandomGenerator(seed: 1)
        var hits = [Int](repeating: 0, count: 10)
        for _ in 0..<2000 {
            let draw = BidirectionalSpirals.sampleWithoutReplacement(3, from: 10, using: &generator)
            #expect(Set(draw).count == 3)
            #expect(draw == draw.sorted())
            for index in draw { hits[index] += 1 }
        }
        // Each index is drawn with probability 0.3: 600 of 2000, standard deviation about 20.
        #expect(hits.allSatisfy { abs($0 - 600) < 100 })
    }
}
