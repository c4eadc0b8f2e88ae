/// A seeded pseudo-random generator, so that runs are reproducible.
///
/// xoshiro256** (Blackman and Vigna, "Scrambled linear pseudorandom number generators",
/// 2018), with the state filled from the seed by SplitMix64 as its authors recommend.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    /// A second normal deviate left over from the last Box–Muller pair.
    private var spareNormal: Double?

    /// Creates a generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var mixer = seed
        func splitMix() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            var z = mixer
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }

    /// A uniform value in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal value, by the Box–Muller transform.
    public mutating func nextNormal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        var u = nextUniform()
        while u == 0 { u = nextUniform() }
        let v = nextUniform()
        let radius = (-2 * _log(u)).squareRoot()
        let angle = 2 * Double.pi * v
        spareNormal = radius * _sin(angle)
        return radius * _cos(angle)
    }

    /// A value drawn uniformly from `0..<bound`.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "RandomGenerator.nextInt(below:): bound must be positive, got \(bound)")
        return Int.random(in: 0..<bound, using: &self)
    }
}

@inline(__always) private func _log(_ x: Double) -> Double { Double.log(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Double.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Double.cos(x) }

extension Tensor {
    /// Creates a tensor of independent normal values.
    public convenience init(
        randomNormal shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1,
        generator: inout RandomGenerator
    ) {
        self.init(uninitializedShape: shape)
        for i in 0..<scalarCount {
            base[i] = mean + standardDeviation * Scalar(generator.nextNormal())
        }
    }

    /// Creates a tensor of independent values uniform in `[lower, upper)`.
    public convenience init(
        randomUniform shape: [Int], lower: Scalar = 0, upper: Scalar = 1,
        generator: inout RandomGenerator
    ) {
        self.init(uninitializedShape: shape)
        for i in 0..<scalarCount {
            base[i] = lower + (upper - lower) * Scalar(generator.nextUniform())
        }
    }
}
