import Experiments
import Foundation

/// A tiny MNIST-format data set of two easy classes, written as raw IDX files into a fresh
/// temporary folder. Class 0 images have a horizontal bar and class 1 images a vertical bar,
/// at a position that varies with the image, on a faint noisy background.
struct SyntheticMNIST {
    let folder: URL

    init(trainCount: Int = 64, testCount: Int = 32) throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("mnist-fixture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Self.write(count: trainCount, seed: 1, split: "train", to: folder)
        try Self.write(count: testCount, seed: 2, split: "t10k", to: folder)
    }

    var path: String { folder.path }

    /// A folder for a run's checkpoint, inside the fixture folder.
    func runFolder(_ name: String) -> String {
        folder.appendingPathComponent(name).path
    }

    func remove() {
        try? FileManager.default.removeItem(at: folder)
    }

    private static func write(count: Int, seed: UInt64, split: String, to folder: URL) throws {
        var state = seed
        func noise() -> UInt8 {
            // A linear congruential generator is enough for a background of values 0...31.
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 59)
        }
        var imageBytes = header(dimensions: [count, 28, 28])
        var labelBytes = header(dimensions: [count])
        for index in 0..<count {
            let label = index % 2
            let position = 6 + (index / 2) % 16
            var pixels = (0..<784).map { _ in noise() }
            for along in 4..<24 {
                for offset in 0..<3 {
                    let (row, column) = label == 0 ? (position + offset, along) : (along, position + offset)
                    pixels[row * 28 + column] = 255
                }
            }
            imageBytes += pixels
            labelBytes.append(UInt8(label))
        }
        try Data(imageBytes).write(to: folder.appendingPathComponent("\(split)-images-idx3-ubyte"))
        try Data(labelBytes).write(to: folder.appendingPathComponent("\(split)-labels-idx1-ubyte"))
    }

    /// Returns the IDX header of unsigned bytes: two zero bytes, type 0x08, the dimension count, then
    /// each dimension as a big-endian 32-bit integer.
    private static func header(dimensions: [Int]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for dimension in dimensions {
            bytes += withUnsafeBytes(of: UInt32(dimension).bigEndian) { Array($0) }
        }
        return bytes
    }
}

/// Returns a configuration for quick runs on `SyntheticMNIST`: narrow layers, small batches, no crops.
func smallMNISTConfiguration(
    _ model: MNISTModelKind, data: SyntheticMNIST, folder: String, epochs: Int = 2
) -> MNISTConfiguration {
    var configuration = MNISTConfiguration()
    configuration.model = model
    configuration.dataPath = data.path
    configuration.checkpointDirectory = data.runFolder(folder)
    configuration.epochs = epochs
    configuration.batchSize = 16
    configuration.testBatchSize = 32
    configuration.channels = 8
    configuration.augmentation = false
    configuration.decayEpochs = [1]
    configuration.seed = 3
    return configuration
}
