#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import TensorEngine

/// The MNIST handwritten digits (LeCun, Bottou, Bengio and Haffner, 1998): 28×28 gray
/// images of the digits 0–9, 60,000 for training and 10,000 for testing.
///
/// The images stay in memory as bytes (47 MB for the training split) and become `Float`
/// tensors only when asked for, whole or a batch at a time, with a chosen normalisation.
///
/// ```swift
/// let test = try MNIST.load(from: "/data/mnist", split: .test)
/// let images = test.images(normalization: .mnist)   // [10000, 1, 28, 28]
/// let labels = test.labels                          // [7, 2, 1, 0, 4, …]
/// ```
public struct MNIST: Sendable {
    /// A half of the published data.
    public enum Split: String, Sendable, CaseIterable {
        /// The 60,000 training examples (`train-*` files).
        case train
        /// The 10,000 test examples (`t10k-*` files).
        case test

        /// The file names of the split, as published, without `.gz`.
        public var fileNames: (images: String, labels: String) {
            switch self {
            case .train: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
            case .test: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
            }
        }
    }

    public static let imageHeight = 28
    public static let imageWidth = 28
    public static let pixelsPerImage = imageHeight * imageWidth
    public static let classCount = 10

    /// The images as bytes 0 (background) to 255 (ink), `count × 28 × 28` in row-major order.
    public let pixels: [UInt8]
    /// The digit of each image, 0 to 9.
    public let labels: [Int]

    /// The number of examples.
    public var count: Int { labels.count }

    /// Creates a dataset from image bytes and labels, such as a subset of another one.
    ///
    /// - Precondition: `pixels` contains 784 bytes per label and every label is in 0...9.
    public init(pixels: [UInt8], labels: [Int]) {
        precondition(
            pixels.count == labels.count * Self.pixelsPerImage,
            "MNIST: \(labels.count) labels need \(labels.count * Self.pixelsPerImage) pixel bytes, got \(pixels.count)")
        if let bad = labels.firstIndex(where: { !(0..<Self.classCount).contains($0) }) {
            preconditionFailure("MNIST: label \(labels[bad]) at index \(bad) is outside 0...9")
        }
        self.pixels = pixels
        self.labels = labels
    }

    // MARK: - Loading

    /// Reads one split from the four standard MNIST files in `directory`.
    ///
    /// Each file is found under its published name (`train-images-idx3-ubyte`, …), with or
    /// without `.gz`, or under the dotted name some archives use (`train-images.idx3-ubyte`).
    /// An uncompressed file is preferred when both exist. The image file must hold an
    /// `N × 28 × 28` array and the label file `N` labels in 0...9.
    ///
    /// - Throws: `DatasetError` naming the file and the problem. The problems are a missing
    ///   file, a damaged gzip stream, a wrong magic number, dimensions that disagree with the
    ///   file length, images that are not 28×28, a label outside 0...9, or different counts
    ///   in the two files.
    public static func load(from directory: String, split: Split) throws(DatasetError) -> MNIST {
        let imagesPath = try locate(split.fileNames.images, in: directory)
        let labelsPath = try locate(split.fileNames.labels, in: directory)

        let images = try IDXArray.read(contentsOf: imagesPath, dimensionCount: 3)
        guard images.dimensions[1] == imageHeight && images.dimensions[2] == imageWidth else {
            throw .unexpectedShape(
                path: imagesPath, dimensions: images.dimensions, expected: "N × \(imageHeight) × \(imageWidth) images")
        }
        let labelArray = try IDXArray.read(contentsOf: labelsPath, dimensionCount: 1)
        guard images.dimensions[0] == labelArray.dimensions[0] else {
            throw .countMismatch(
                imagesPath: imagesPath, imageCount: images.dimensions[0], labelsPath: labelsPath,
                labelCount: labelArray.dimensions[0])
        }
        if let bad = labelArray.bytes.firstIndex(where: { $0 >= classCount }) {
            throw .invalidLabel(
                path: labelsPath, index: bad, value: Int(labelArray.bytes[bad]), validRange: 0...(classCount - 1))
        }
        return MNIST(pixels: images.bytes, labels: labelArray.bytes.map(Int.init))
    }

    /// Returns the path of the first existing file among the accepted names of `baseName`.
    private static func locate(_ baseName: String, in directory: String) throws(DatasetError) -> String {
        let dotted = baseName.replacing("-idx", with: ".idx", maxReplacements: 1)
        let candidates = [baseName, baseName + ".gz", dotted, dotted + ".gz"]
        let folder = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
        for name in candidates {
            let path = folder + "/" + name
            if access(path, F_OK) == 0 { return path }
        }
        var status = stat()
        let exists = stat(folder, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
        throw .mnistFileNotFound(directory: folder, candidates: candidates, directoryExists: exists)
    }

    // MARK: - Tensors

    /// Returns all images as a `[count, 1, 28, 28]` tensor.
    public func images(normalization: PixelNormalization = .unitInterval) -> Tensor<Float> {
        images(at: Array(0..<count), normalization: normalization)
    }

    /// Returns the images at `indices`, in that order, as a `[indices.count, 1, 28, 28]` tensor.
    public func images(at indices: [Int], normalization: PixelNormalization = .unitInterval) -> Tensor<Float> {
        let table = normalization.lookupTable()
        let size = Self.pixelsPerImage
        for index in indices {
            precondition(index >= 0 && index < count, "MNIST.images(at:): index \(index) is outside 0..<\(count)")
        }
        return Tensor<Float>(shape: [indices.count, 1, Self.imageHeight, Self.imageWidth]) { target in
            pixels.withUnsafeBufferPointer { source in
                table.withUnsafeBufferPointer { values in
                    for (row, index) in indices.enumerated() {
                        let from = source.baseAddress! + index * size
                        let to = target.baseAddress! + row * size
                        for k in 0..<size { to[k] = values[Int(from[k])] }
                    }
                }
            }
        }
    }

    /// Returns the labels at `indices`, in that order.
    public func labels(at indices: [Int]) -> [Int] {
        indices.map { labels[$0] }
    }

    /// Returns the examples at `indices` as a new dataset.
    public func subset(_ indices: [Int]) -> MNIST {
        var subsetPixels = [UInt8]()
        subsetPixels.reserveCapacity(indices.count * Self.pixelsPerImage)
        for index in indices {
            precondition(index >= 0 && index < count, "MNIST.subset: index \(index) is outside 0..<\(count)")
            subsetPixels.append(contentsOf: pixels[(index * Self.pixelsPerImage)..<((index + 1) * Self.pixelsPerImage)])
        }
        return MNIST(pixels: subsetPixels, labels: labels(at: indices))
    }
}

/// A mapping from image bytes 0...255 to network inputs.
public enum PixelNormalization: Sendable, Hashable {
    /// `byte / 255`, in [0, 1], as torchvision's `ToTensor`.
    case unitInterval
    /// `(byte / 255 − mean) / standardDeviation`, as torchvision's `Normalize` after
    /// `ToTensor`.
    case standardized(mean: Float, standardDeviation: Float)

    /// The mean 0.1307 and standard deviation 0.3081 of the MNIST training pixels on the
    /// [0, 1] scale, the constants of the usual PyTorch MNIST examples.
    public static let mnist = PixelNormalization.standardized(mean: 0.1307, standardDeviation: 0.3081)

    /// Returns the value of every byte, indexed by the byte.
    public func lookupTable() -> [Float] {
        (0...255).map { byte in value(of: UInt8(byte)) }
    }

    /// Returns the value of one byte.
    public func value(of byte: UInt8) -> Float {
        let unit = Float(byte) / 255
        switch self {
        case .unitInterval:
            return unit
        case let .standardized(mean, standardDeviation):
            precondition(
                standardDeviation > 0 && standardDeviation.isFinite,
                "PixelNormalization.standardized: standardDeviation must be positive, got \(standardDeviation)")
            return (unit - mean) / standardDeviation
        }
    }
}
