import Datasets
import Foundation
import Testing

/// The folder of the published MNIST files: `MNIST_DIR` when set, else this project's shared copy.
private let realMNISTFolder = ProcessInfo.processInfo.environment["MNIST_DIR"] ?? "/work/shared/data/mnist"
private let hasRealMNIST = FileManager.default.fileExists(atPath: realMNISTFolder + "/t10k-images-idx3-ubyte.gz")

@Suite("Published MNIST files", .enabled(if: hasRealMNIST, "needs the MNIST files in \(realMNISTFolder)"))
struct RealMNISTTests {
    @Test("test split matches the published facts")
    func testSplit() throws {
        let test = try MNIST.load(from: realMNISTFolder, split: .test)
        #expect(test.count == 10_000)
        #expect(test.pixels.count == 10_000 * 784)
        #expect(Array(test.labels.prefix(10)) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        let total = test.pixels.reduce(0) { $0 + Int($1) }
        let mean = Double(total) / Double(test.pixels.count) / 255
        #expect(abs(mean - 0.1325) < 0.0005, "pixel mean / 255 is \(mean)")
        var counts = [Int](repeating: 0, count: 10)
        for label in test.labels { counts[label] += 1 }
        #expect(counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    }

    @Test("train split has 60000 examples")
    func trainSplit() throws {
        let train = try MNIST.load(from: realMNISTFolder, split: .train)
        #expect(train.count == 60_000)
        #expect(Array(train.labels.prefix(10)) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    }
}
