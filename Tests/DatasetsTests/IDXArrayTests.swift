import Datasets
import Testing

@Suite("IDX reader")
struct IDXArrayTests {
    private let pixels = IDXFixture.imagePixels(count: 3)

    private func imageFile() -> [UInt8] {
        IDXFixture.bytes(dimensions: [3, 28, 28], data: pixels)
    }

    /// Returns the message of the `DatasetError` that `body` throws, or "no error".
    private func message(_ body: () throws(DatasetError) -> Void) -> String {
        do throws(DatasetError) {
            try body()
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test("raw file reads back")
    func rawFile() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(imageFile(), named: "images.idx")
        let array = try IDXArray.read(contentsOf: path, dimensionCount: 3)
        #expect(array.dimensions == [3, 28, 28])
        #expect(array.bytes == pixels)
    }

    @Test("gzip file reads back")
    func gzipFile() throws {
        let folder = try TemporaryFolder()
        let compressed = IDXFixture.gzip(imageFile())
        #expect(compressed.count < imageFile().count)
        let path = try folder.write(compressed, named: "images.idx.gz")
        let array = try IDXArray.read(contentsOf: path, dimensionCount: 3)
        #expect(array.dimensions == [3, 28, 28])
        #expect(array.bytes == pixels)
    }

    @Test("gzip is detected by content, not name")
    func gzipWithoutSuffix() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(IDXFixture.gzip(imageFile()), named: "images-without-suffix")
        #expect(try IDXArray.read(contentsOf: path).bytes == pixels)
    }

    @Test("concatenated gzip members read as one file")
    func multiMemberGzip() throws {
        let folder = try TemporaryFolder()
        let file = imageFile()
        let split = 1000
        let joined = IDXFixture.gzip(Array(file[..<split])) + IDXFixture.gzip(Array(file[split...]))
        let path = try folder.write(joined, named: "images.gz")
        let array = try IDXArray.read(contentsOf: path)
        #expect(array.dimensions == [3, 28, 28])
        #expect(array.bytes == pixels)
    }

    @Test("one-dimensional labels read back")
    func labelFile() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(IDXFixture.bytes(dimensions: [4], data: [7, 2, 1, 0]), named: "labels")
        let array = try IDXArray.read(contentsOf: path, dimensionCount: 1)
        #expect(array.dimensions == [4])
        #expect(array.bytes == [7, 2, 1, 0])
    }

    @Test("missing file is rejected")
    func missingFile() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/absent.idx"
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("Cannot read '\(path)'"))
        #expect(text.contains("No such file or directory"))
    }

    @Test("folder instead of file is rejected")
    func folderInsteadOfFile() throws {
        let folder = try TemporaryFolder()
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: folder.path) }
        #expect(text.contains("'\(folder.path)'"))
        #expect(text.contains("not a regular file"))
    }

    @Test("wrong dimension count names both magic numbers")
    func wrongDimensionCount() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(IDXFixture.bytes(dimensions: [2], data: [1, 2]), named: "labels.idx")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path, dimensionCount: 3) }
        #expect(text.contains("'\(path)' is not a valid IDX file"))
        #expect(text.contains("magic number 0x00000801 declares 1 dimensions, expected 3 (magic number 0x00000803)"))
    }

    @Test("text file fails the magic number")
    func notIDX() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(Array("hello, world\n".utf8), named: "notes.txt")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("the magic number 0x68656C6C does not start with two zero bytes"))
    }

    @Test("non-byte data type is rejected")
    func unsupportedType() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(IDXFixture.bytes(type: 0x0D, dimensions: [1], data: [0, 0, 0, 0]), named: "floats")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("declares data type 0x0D (32-bit float), but only 0x08 (unsigned byte) is supported"))
    }

    @Test("file shorter than the magic number is rejected")
    func tooShort() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write([0, 0], named: "stub")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("the file has only 2 bytes, fewer than the 4-byte magic number"))
    }

    @Test("header cut short is rejected")
    func truncatedHeader() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(Array(imageFile()[..<10]), named: "cut-header")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("the file ends after 10 bytes, inside the 16-byte header of 3 dimensions"))
    }

    @Test("truncated data is rejected before reading")
    func truncatedData() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(Array(imageFile()[..<2016]), named: "cut-data")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("'\(path)' is not a valid IDX file"))
        #expect(text.contains("the dimensions 3 × 28 × 28 need 2352 data bytes after the 16-byte header, but the file has 2000"))
        #expect(text.contains("Download it again"))
    }

    @Test("extra data is rejected")
    func extraData() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(imageFile() + [9], named: "long")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("need 2352 data bytes after the 16-byte header, but the file has 2353"))
    }

    @Test("gzip of truncated data is rejected")
    func compressedTruncatedData() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(IDXFixture.gzip(Array(imageFile()[..<2016])), named: "cut.gz")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("need 2352 data bytes after the 16-byte header, but the decompressed file has only 2000"))
    }

    @Test("gzip of extra data is rejected")
    func compressedExtraData() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(IDXFixture.gzip(imageFile() + [1, 2, 3]), named: "long.gz")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("but the decompressed file has 2355"))
    }

    @Test("truncated gzip stream is rejected")
    func truncatedGzip() throws {
        let folder = try TemporaryFolder()
        let compressed = IDXFixture.gzip(imageFile())
        let path = try folder.write(Array(compressed[..<(compressed.count / 2)]), named: "half.gz")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("'\(path)' is not a valid gzip file"))
        #expect(text.contains("ends early"))
        #expect(text.contains("truncated"))
    }

    @Test("corrupt gzip stream is rejected")
    func corruptGzip() throws {
        let folder = try TemporaryFolder()
        var compressed = IDXFixture.gzip(imageFile())
        // The first deflate block header follows the 10-byte gzip header; 0xFF sets block
        // type 3, which RFC 1951 reserves as invalid.
        compressed[10] = 0xFF
        let path = try folder.write(compressed, named: "corrupt.gz")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("'\(path)' is not a valid gzip file"))
        #expect(text.contains("invalid block type"))
    }

    @Test("damaged checksum is rejected")
    func gzipChecksum() throws {
        let folder = try TemporaryFolder()
        var compressed = IDXFixture.gzip(imageFile())
        // The CRC-32 of the content sits in the 8-byte trailer before ISIZE.
        compressed[compressed.count - 8] ^= 0xFF
        let path = try folder.write(compressed, named: "checksum.gz")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("incorrect data check"))
    }

    @Test("bytes after the gzip stream are rejected")
    func gzipTrailingGarbage() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(IDXFixture.gzip(imageFile()) + [0x41, 0x42, 0x43], named: "trailing.gz")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("3 bytes that are not gzip data follow the end of the stream"))
    }

    @Test("huge declared size in a raw file is rejected")
    func hugeRawDimensions() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(IDXFixture.bytes(dimensions: [4_294_967_295, 28, 28], data: [1, 2, 3]), named: "huge")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("the dimensions 4294967295 × 28 × 28 need 3367254359280 data bytes"))
        #expect(text.contains("but the file has 3"))
    }

    @Test("huge declared size in a gzip file is rejected")
    func hugeCompressedDimensions() throws {
        let folder = try TemporaryFolder()
        let file = IDXFixture.bytes(dimensions: [4_294_967_295, 28, 28], data: [1, 2, 3])
        let compressed = IDXFixture.gzip(file)
        let path = try folder.write(compressed, named: "huge.gz")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("need 3367254359280 data bytes, more than the \(compressed.count)-byte gzip file can expand to"))
    }

    @Test("dimensions beyond Int are rejected")
    func overflowingDimensions() throws {
        let folder = try TemporaryFolder()
        let size = 4_294_967_295
        let path = try folder.write(IDXFixture.bytes(dimensions: [size, size, size], data: []), named: "overflow")
        let text = message { () throws(DatasetError) in _ = try IDXArray.read(contentsOf: path) }
        #expect(text.contains("describe more bytes than memory can address"))
    }
}
