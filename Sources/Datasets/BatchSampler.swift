import TensorEngine

/// Splits the indices `0..<count` into mini-batches, in a new random order each epoch.
///
/// The order comes from a Fisher–Yates shuffle driven by `RandomGenerator`, so a seed fixes
/// the sequence of epochs on every platform and Swift version.
public struct BatchSampler: Sendable {
    public let count: Int
    public let batchSize: Int
    /// Whether each epoch visits the examples in a new random order; otherwise in index order.
    public let shuffles: Bool
    /// Whether an epoch leaves out the last batch when it would be smaller than `batchSize`.
    public let dropsLastPartialBatch: Bool
    private var generator: RandomGenerator

    public init(
        count: Int, batchSize: Int, shuffles: Bool = true, dropsLastPartialBatch: Bool = false, seed: UInt64
    ) {
        precondition(count >= 0, "BatchSampler: count must be non-negative, got \(count)")
        precondition(batchSize >= 1, "BatchSampler: batchSize must be at least 1, got \(batchSize)")
        self.count = count
        self.batchSize = batchSize
        self.shuffles = shuffles
        self.dropsLastPartialBatch = dropsLastPartialBatch
        self.generator = RandomGenerator(seed: seed)
    }

    /// The number of batches in each epoch.
    public var batchesPerEpoch: Int {
        dropsLastPartialBatch ? count / batchSize : (count + batchSize - 1) / batchSize
    }

    /// Returns the batches of the next epoch. Each index appears in exactly one batch,
    /// except the remainder that `dropsLastPartialBatch` leaves out.
    public mutating func nextEpoch() -> [[Int]] {
        let order = shuffles ? Self.shuffled(count: count, using: &generator) : Array(0..<count)
        return (0..<batchesPerEpoch).map { batch in
            Array(order[(batch * batchSize)..<min(count, (batch + 1) * batchSize)])
        }
    }

    /// Returns a uniformly random permutation of `0..<count` (Fisher–Yates shuffle).
    public static func shuffled(count: Int, using generator: inout RandomGenerator) -> [Int] {
        var order = Array(0..<count)
        var i = count - 1
        while i > 0 {
            order.swapAt(i, generator.nextInt(below: i + 1))
            i -= 1
        }
        return order
    }

    /// Draws a value for the next epoch's own generators, such as an augmentation's.
    mutating func nextSeed() -> UInt64 {
        generator.next()
    }
}
