import Datasets
import TensorEngine
import Testing

@Suite("MNIST mini-batches")
struct MNISTLoaderTests {
    /// `count` images of random bytes 1...255, so that any shift of an image is recognisable.
    private func randomDataset(count: Int, seed: UInt64) -> MNIST {
        var generator = RandomGenerator(seed: seed)
        let pixels = (0..<(count * 784)).map { _ in UInt8(1 + generator.nextInt(below: 255)) }
        return MNIST(pixels: pixels, labels: (0..<count).map { $0 % 10 })
    }

    @Test("epoch visits every index once")
    func samplerCoversIndices() {
        var sampler = BatchSampler(count: 10, batchSize: 4, seed: 7)
        let batches = sampler.nextEpoch()
        #expect(batches.map(\.count) == [4, 4, 2])
        #expect(batches.joined().sorted() == Array(0..<10))
        #expect(sampler.batchesPerEpoch == 3)
    }

    @Test("partial batch can be dropped")
    func samplerDropsPartialBatch() {
        var sampler = BatchSampler(count: 10, batchSize: 4, dropsLastPartialBatch: true, seed: 7)
        let batches = sampler.nextEpoch()
        #expect(batches.map(\.count) == [4, 4])
        #expect(Set(batches.joined()).count == 8)
    }

    @Test("seed fixes the order and epochs differ")
    func samplerDeterminism() {
        var first = BatchSampler(count: 100, batchSize: 10, seed: 42)
        var second = BatchSampler(count: 100, batchSize: 10, seed: 42)
        let epochA = first.nextEpoch()
        #expect(epochA == second.nextEpoch())
        let epochB = first.nextEpoch()
        #expect(epochA != epochB)
        #expect(epochB.joined().sorted() == Array(0..<100))
        var other = BatchSampler(count: 100, batchSize: 10, seed: 43)
        #expect(other.nextEpoch() != epochA)
    }

    @Test("unshuffled sampler keeps index order")
    func samplerInOrder() {
        var sampler = BatchSampler(count: 5, batchSize: 2, shuffles: false, seed: 1)
        #expect(sampler.nextEpoch() == [[0, 1], [2, 3], [4]])
    }

    @Test("shuffle moves each index everywhere")
    func shuffleUniformity() {
        // Over 4000 shuffles of 4 items, each index lands in each position 1000 times on
        // average. The standard deviation of a count is about 27, so ±150 is over 5σ.
        var generator = RandomGenerator(seed: 3)
        var counts = [[Int]](repeating: [0, 0, 0, 0], count: 4)
        for _ in 0..<4000 {
            for (position, index) in BatchSampler.shuffled(count: 4, using: &generator).enumerated() {
                counts[index][position] += 1
            }
        }
        for row in counts {
            for count in row { #expect(abs(count - 1000) < 150, "counts \(counts)") }
        }
    }

    @Test("plain batches match the dataset")
    func plainBatches() {
        let mnist = randomDataset(count: 7, seed: 1)
        var loader = MNISTLoader(mnist, batchSize: 3, seed: 5, normalization: .mnist)
        let batches = Array(loader.nextEpoch())
        #expect(batches.count == 3)
        for batch in batches {
            #expect(batch.images.shape == [batch.indices.count, 1, 28, 28])
            #expect(batch.images.scalars == mnist.images(at: batch.indices, normalization: .mnist).scalars)
            #expect(batch.labels == batch.indices.map { mnist.labels[$0] })
        }
    }

    @Test("evaluation batches run in order")
    func evaluationBatches() {
        let mnist = randomDataset(count: 5, seed: 2)
        let batches = Array(mnist.batches(size: 2))
        #expect(batches.map(\.indices) == [[0, 1], [2, 3], [4]])
        #expect(batches[2].images.shape == [1, 1, 28, 28])
    }

    /// Finds the shift `(top, left)` with `output[y][x] == source[y + top][x + left]` inside
    /// the image and zero outside. Returns `nil` when no shift in `-padding...padding` fits.
    private func cropShift(of output: [Float], source: ArraySlice<UInt8>, padding: Int) -> (Int, Int)? {
        let base = source.startIndex
        for top in -padding...padding {
            for left in -padding...padding {
                var matches = true
                for y in 0..<28 where matches {
                    for x in 0..<28 {
                        let sy = y + top
                        let sx = x + left
                        let inside = sy >= 0 && sy < 28 && sx >= 0 && sx < 28
                        let expected: Float = inside ? Float(source[base + sy * 28 + sx]) / 255 : 0
                        if output[y * 28 + x] != expected {
                            matches = false
                            break
                        }
                    }
                }
                if matches { return (top, left) }
            }
        }
        return nil
    }

    @Test("random crop shifts within the padding")
    func randomCrop() throws {
        let mnist = randomDataset(count: 120, seed: 9)
        var loader = MNISTLoader(mnist, batchSize: 40, seed: 11, augmentation: .randomCrop(padding: 4))
        var tops = Set<Int>()
        var lefts = Set<Int>()
        for batch in loader.nextEpoch() {
            let values = batch.images.scalars
            for (row, index) in batch.indices.enumerated() {
                let output = Array(values[(row * 784)..<((row + 1) * 784)])
                let source = mnist.pixels[(index * 784)..<((index + 1) * 784)]
                let shift = try #require(cropShift(of: output, source: source, padding: 4))
                tops.insert(shift.0)
                lefts.insert(shift.1)
            }
        }
        // 120 draws from 9 offsets miss one with probability below 120 × (8/9)^120 ≈ 1e-4,
        // and the seed is fixed.
        #expect(tops == Set(-4...4))
        #expect(lefts == Set(-4...4))
    }

    @Test("zero padding leaves images unchanged")
    func zeroPaddingCrop() {
        let mnist = randomDataset(count: 4, seed: 4)
        var loader = MNISTLoader(mnist, batchSize: 4, seed: 1, augmentation: .randomCrop(padding: 0))
        let batch = Array(loader.nextEpoch())[0]
        #expect(batch.images.scalars == mnist.images(at: batch.indices).scalars)
    }

    @Test("same epoch value repeats its crops")
    func epochRepeatability() {
        let mnist = randomDataset(count: 8, seed: 5)
        var loader = MNISTLoader(mnist, batchSize: 8, seed: 3, augmentation: .randomCrop(padding: 4))
        let epoch = loader.nextEpoch()
        let first = Array(epoch)[0].images.scalars
        let again = Array(epoch)[0].images.scalars
        #expect(first == again)
        let next = Array(loader.nextEpoch())[0]
        #expect(next.images.scalars != first)
    }

    @Test("crop padding of 28 traps")
    func oversizedPaddingTrap() async {
        await #expect(processExitsWith: .failure) {
            let mnist = MNIST(pixels: [UInt8](repeating: 0, count: 784), labels: [0])
            _ = MNISTLoader(mnist, batchSize: 1, seed: 0, augmentation: .randomCrop(padding: 28))
        }
    }
}
