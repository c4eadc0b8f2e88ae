import TensorEngine

/// A random change applied to each training image when its batch is built.
public enum ImageAugmentation: Sendable, Hashable {
    /// Pads the image with `padding` zero pixels on every side and cuts out a 28×28 window
    /// at an offset drawn uniformly from `0...2·padding` in each direction, as torchvision's
    /// `RandomCrop(28, padding: padding)`. The ODE-Net MNIST experiment of Chen et al.,
    /// "Neural Ordinary Differential Equations" (2018), trains with padding 4.
    case randomCrop(padding: Int)
}

/// One mini-batch of MNIST examples.
public struct MNISTBatch {
    /// The images, `[batchSize, 1, 28, 28]`.
    public let images: Tensor<Float>
    /// The digit of each image.
    public let labels: [Int]
    /// The positions of the examples in the dataset.
    public let indices: [Int]
}

/// Mini-batches of an MNIST split for training: shuffled from a seed, optionally augmented,
/// normalised.
///
/// ```swift
/// let train = try MNIST.load(from: folder, split: .train)
/// var loader = MNISTLoader(train, batchSize: 128, seed: 1,
///                          augmentation: .randomCrop(padding: 4), normalization: .unitInterval)
/// for epoch in 0..<160 {
///     for batch in loader.nextEpoch() {
///         let loss = crossEntropy(logits: model(batch.images), labels: batch.labels)
///         …
///     }
/// }
/// ```
public struct MNISTLoader: Sendable {
    public let dataset: MNIST
    public let augmentation: ImageAugmentation?
    public let normalization: PixelNormalization
    private var sampler: BatchSampler

    /// Creates a loader; the seed fixes the order of every epoch and every augmentation.
    public init(
        _ dataset: MNIST, batchSize: Int, seed: UInt64, shuffles: Bool = true,
        augmentation: ImageAugmentation? = nil, normalization: PixelNormalization = .unitInterval,
        dropsLastPartialBatch: Bool = false
    ) {
        if case let .randomCrop(padding)? = augmentation {
            precondition(
                padding >= 0 && padding < MNIST.imageWidth,
                "MNISTLoader: crop padding must be in 0..<\(MNIST.imageWidth), got \(padding)")
        }
        self.dataset = dataset
        self.augmentation = augmentation
        self.normalization = normalization
        self.sampler = BatchSampler(
            count: dataset.count, batchSize: batchSize, shuffles: shuffles,
            dropsLastPartialBatch: dropsLastPartialBatch, seed: seed)
    }

    public var batchSize: Int { sampler.batchSize }
    public var batchesPerEpoch: Int { sampler.batchesPerEpoch }

    /// Returns the batches of the next epoch, built lazily as the sequence is iterated.
    /// Iterating the same epoch value twice gives the same batches.
    public mutating func nextEpoch() -> MNISTEpoch {
        MNISTEpoch(
            dataset: dataset, batches: sampler.nextEpoch(), augmentation: augmentation,
            normalization: normalization, augmentationSeed: sampler.nextSeed())
    }
}

extension MNIST {
    /// Returns the examples in index order in batches of `size`, unaugmented, for evaluation.
    public func batches(size: Int, normalization: PixelNormalization = .unitInterval) -> MNISTEpoch {
        var loader = MNISTLoader(self, batchSize: size, seed: 0, shuffles: false, normalization: normalization)
        return loader.nextEpoch()
    }
}

/// The batches of one epoch.
public struct MNISTEpoch: Sequence, Sendable {
    public let dataset: MNIST
    /// The dataset indices of each batch.
    public let batches: [[Int]]
    public let augmentation: ImageAugmentation?
    public let normalization: PixelNormalization
    let augmentationSeed: UInt64

    public var underestimatedCount: Int { batches.count }

    public func makeIterator() -> Iterator {
        Iterator(epoch: self, generator: RandomGenerator(seed: augmentationSeed), table: normalization.lookupTable())
    }

    public struct Iterator: IteratorProtocol {
        let epoch: MNISTEpoch
        var generator: RandomGenerator
        let table: [Float]
        var position = 0

        public mutating func next() -> MNISTBatch? {
            guard position < epoch.batches.count else { return nil }
            let indices = epoch.batches[position]
            position += 1
            let images: Tensor<Float>
            switch epoch.augmentation {
            case nil:
                images = epoch.dataset.images(at: indices, normalization: epoch.normalization)
            case let .randomCrop(padding)?:
                images = croppedImages(indices, padding: padding)
            }
            return MNISTBatch(images: images, labels: epoch.dataset.labels(at: indices), indices: indices)
        }

        /// Shifts each image by a random offset in `-padding...padding` per direction, with
        /// zero bytes where the window leaves the image. This equals padding with zeros and
        /// cropping, without building the padded image.
        private mutating func croppedImages(_ indices: [Int], padding: Int) -> Tensor<Float> {
            let height = MNIST.imageHeight
            let width = MNIST.imageWidth
            let size = MNIST.pixelsPerImage
            let background = table[0]
            // Top offset first, then left, the order torchvision draws them in.
            var offsets: [(top: Int, left: Int)] = []
            for _ in indices {
                let top = generator.nextInt(below: 2 * padding + 1) - padding
                let left = generator.nextInt(below: 2 * padding + 1) - padding
                offsets.append((top, left))
            }
            let table = self.table
            return Tensor<Float>(shape: [indices.count, 1, height, width]) { target in
                epoch.dataset.pixels.withUnsafeBufferPointer { source in
                    for (row, index) in indices.enumerated() {
                        let image = index * size
                        let output = row * size
                        let (top, left) = offsets[row]
                        for y in 0..<height {
                            let sourceY = y + top
                            for x in 0..<width {
                                let sourceX = x + left
                                let inside = sourceY >= 0 && sourceY < height && sourceX >= 0 && sourceX < width
                                target[output + y * width + x] =
                                    inside ? table[Int(source[image + sourceY * width + sourceX])] : background
                            }
                        }
                    }
                }
            }
        }
    }
}
