import CZlib
import Datasets
import Foundation

/// A fresh folder under the system temporary folder, removed when the value is freed.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/datasets-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    /// Writes `bytes` to `name` in the folder and returns the file's path.
    @discardableResult
    func write(_ bytes: [UInt8], named name: String) throws -> String {
        let filePath = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: filePath))
        return filePath
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Builders for small IDX files, raw or gzip-compressed.
enum IDXFixture {
    /// Builds an IDX file: magic number (0, 0, type, rank), big-endian dimension sizes, then `data`.
    static func bytes(type: UInt8 = 0x08, dimensions: [Int], data: [UInt8]) -> [UInt8] {
        var result: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
        for size in dimensions {
            let value = UInt32(truncatingIfNeeded: size)
            result += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
        }
        return result + data
    }

    /// `bytes` compressed as one gzip member with zlib's deflate at level 6.
    static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        // windowBits 16 + MAX_WBITS writes a gzip wrapper; memory level 8 is zlib's default.
        let status = deflateInit2_(
            &stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2_ failed with status \(status)")
        defer { deflateEnd(&stream) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 64)
        let produced = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                let result = deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "deflate failed with status \(result)")
                return target.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<produced])
    }

    /// Image bytes for `count` 28×28 images, each pixel a different value, never zero.
    static func imagePixels(count: Int) -> [UInt8] {
        (0..<(count * 784)).map { UInt8(1 + ($0 * 7) % 255) }
    }

    /// Writes an MNIST split into `folder` under the published names, optionally with `.gz`.
    static func writeMNIST(
        in folder: TemporaryFolder, split: MNIST.Split, pixels: [UInt8], imageDimensions: [Int],
        labels: [UInt8], compressed: Bool
    ) throws {
        let images = bytes(dimensions: imageDimensions, data: pixels)
        let labelFile = bytes(dimensions: [labels.count], data: labels)
        let suffix = compressed ? ".gz" : ""
        try folder.write(compressed ? gzip(images) : images, named: split.fileNames.images + suffix)
        try folder.write(compressed ? gzip(labelFile) : labelFile, named: split.fileNames.labels + suffix)
    }
}
