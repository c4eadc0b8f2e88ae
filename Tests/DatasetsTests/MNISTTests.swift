import Datasets
import Foundation
import TensorEngine
import Testing

@Suite("MNIST loading")
struct MNISTTests {
    private let pixels = IDXFixture.imagePixels(count: 3)
    private let labels: [UInt8] = [3, 1, 4]

    private func message(_ body: () throws(DatasetError) -> Void) -> String {
        do throws(DatasetError) {
            try body()
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test("raw and gzip files load the same", arguments: [false, true])
    func loadSplit(compressed: Bool) throws {
        let folder = try TemporaryFolder()
        try IDXFixture.writeMNIST(
            in: folder, split: .test, pixels: pixels, imageDimensions: [3, 28, 28], labels: labels,
            compressed: compressed)
        let mnist = try MNIST.load(from: folder.path, split: .test)
        #expect(mnist.count == 3)
        #expect(mnist.labels == [3, 1, 4])
        #expect(mnist.pixels == pixels)
    }

    @Test("dotted file names are accepted")
    func dottedNames() throws {
        let folder = try TemporaryFolder()
        try folder.write(IDXFixture.bytes(dimensions: [3, 28, 28], data: pixels), named: "train-images.idx3-ubyte")
        try folder.write(IDXFixture.gzip(IDXFixture.bytes(dimensions: [3], data: labels)), named: "train-labels.idx1-ubyte.gz")
        let mnist = try MNIST.load(from: folder.path + "/", split: .train)
        #expect(mnist.labels == [3, 1, 4])
    }

    @Test("images become scaled tensors")
    func imageTensor() throws {
        let mnist = MNIST(pixels: pixels, labels: [3, 1, 4])
        let images = mnist.images()
        #expect(images.shape == [3, 1, 28, 28])
        let values = images.scalars
        // Pixel k of the fixture is 1 + 7k mod 255.
        #expect(values[0] == Float(1) / 255)
        #expect(values[1] == Float(8) / 255)
        #expect(values[784] == Float(1 + (784 * 7) % 255) / 255)

        let picked = mnist.images(at: [2, 0], normalization: .mnist)
        #expect(picked.shape == [2, 1, 28, 28])
        let expected = (Float(pixels[2 * 784]) / 255 - 0.1307) / 0.3081
        #expect(picked.scalars[0] == expected)
        #expect(picked.scalars[784] == (Float(1) / 255 - 0.1307) / 0.3081)
    }

    @Test("normalisation constants map the byte ends")
    func normalizationValues() {
        #expect(PixelNormalization.unitInterval.value(of: 255) == 1)
        #expect(PixelNormalization.unitInterval.value(of: 0) == 0)
        // (0 − 0.1307) / 0.3081 and (1 − 0.1307) / 0.3081.
        #expect(abs(PixelNormalization.mnist.value(of: 0) - -0.424213) < 1e-6)
        #expect(abs(PixelNormalization.mnist.value(of: 255) - 2.821487) < 1e-6)
        #expect(PixelNormalization.mnist.lookupTable().count == 256)
    }

    @Test("subset keeps the chosen examples")
    func subset() {
        let mnist = MNIST(pixels: pixels, labels: [3, 1, 4])
        let part = mnist.subset([2, 0])
        #expect(part.labels == [4, 3])
        #expect(Array(part.pixels[0..<784]) == Array(pixels[1568..<2352]))
        #expect(Array(part.pixels[784...]) == Array(pixels[0..<784]))
    }

    @Test("missing folder is named")
    func missingFolder() throws {
        let folder = try TemporaryFolder()
        let absent = folder.path + "/mnist"
        let text = message { () throws(DatasetError) in _ = try MNIST.load(from: absent, split: .train) }
        #expect(text.contains("because the folder '\(absent)' does not exist"))
        #expect(text.contains("'train-images-idx3-ubyte', 'train-images-idx3-ubyte.gz'"))
        #expect(text.contains("Expected the four MNIST files in that folder: train-images-idx3-ubyte, "
            + "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte"))
    }

    @Test("missing label file is named")
    func missingLabelFile() throws {
        let folder = try TemporaryFolder()
        try folder.write(IDXFixture.bytes(dimensions: [3, 28, 28], data: pixels), named: "t10k-images-idx3-ubyte")
        let text = message { () throws(DatasetError) in _ = try MNIST.load(from: folder.path, split: .test) }
        #expect(text.contains("MNIST file not found in '\(folder.path)'"))
        #expect(text.contains("'t10k-labels-idx1-ubyte.gz'"))
        #expect(text.contains("'t10k-labels.idx1-ubyte'"))
    }

    @Test("swapped files fail the magic number")
    func swappedFiles() throws {
        let folder = try TemporaryFolder()
        try folder.write(IDXFixture.bytes(dimensions: [3], data: labels), named: "t10k-images-idx3-ubyte")
        try folder.write(IDXFixture.bytes(dimensions: [3, 28, 28], data: pixels), named: "t10k-labels-idx1-ubyte")
        let text = message { () throws(DatasetError) in _ = try MNIST.load(from: folder.path, split: .test) }
        #expect(text.contains("t10k-images-idx3-ubyte' is not a valid IDX file"))
        #expect(text.contains("magic number 0x00000801 declares 1 dimensions, expected 3"))
    }

    @Test("different counts are rejected")
    func countMismatch() throws {
        let folder = try TemporaryFolder()
        try IDXFixture.writeMNIST(
            in: folder, split: .train, pixels: pixels, imageDimensions: [3, 28, 28], labels: [3, 1],
            compressed: false)
        let text = message { () throws(DatasetError) in _ = try MNIST.load(from: folder.path, split: .train) }
        #expect(text.contains("train-images-idx3-ubyte' holds 3 images but"))
        #expect(text.contains("train-labels-idx1-ubyte' holds 2 labels"))
    }

    @Test("images of another size are rejected")
    func wrongImageSize() throws {
        let folder = try TemporaryFolder()
        let large = [UInt8](repeating: 5, count: 2 * 32 * 32)
        try IDXFixture.writeMNIST(
            in: folder, split: .train, pixels: large, imageDimensions: [2, 32, 32], labels: [3, 1],
            compressed: true)
        let text = message { () throws(DatasetError) in _ = try MNIST.load(from: folder.path, split: .train) }
        #expect(text.contains("train-images-idx3-ubyte.gz' holds an array of shape 2 × 32 × 32, expected N × 28 × 28 images"))
    }

    @Test("labels outside 0...9 are rejected")
    func invalidLabel() throws {
        let folder = try TemporaryFolder()
        try IDXFixture.writeMNIST(
            in: folder, split: .test, pixels: pixels, imageDimensions: [3, 28, 28], labels: [3, 10, 4],
            compressed: false)
        let text = message { () throws(DatasetError) in _ = try MNIST.load(from: folder.path, split: .test) }
        #expect(text.contains("t10k-labels-idx1-ubyte' has label 10 at index 1, outside 0...9"))
    }

    @Test("truncated image file is rejected")
    func truncatedImages() throws {
        let folder = try TemporaryFolder()
        try IDXFixture.writeMNIST(
            in: folder, split: .test, pixels: Array(pixels[..<2000]), imageDimensions: [3, 28, 28], labels: labels,
            compressed: true)
        let text = message { () throws(DatasetError) in _ = try MNIST.load(from: folder.path, split: .test) }
        #expect(text.contains("t10k-images-idx3-ubyte.gz' is not a valid IDX file"))
        #expect(text.contains("need 2352 data bytes after the 16-byte header, but the decompressed file has only 2000"))
    }
}
