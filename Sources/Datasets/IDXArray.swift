/// An array of unsigned bytes read from an IDX file, the format of the MNIST files.
///
/// An IDX file (LeCun et al., "The MNIST database of handwritten digits") starts with a
/// 4-byte magic number: two zero bytes, a data type code (0x08 for unsigned bytes) and the
/// number of dimensions. Each dimension size follows as a big-endian UInt32, then the values
/// in row-major order. So MNIST images have magic 0x00000803 and labels 0x00000801.
public struct IDXArray: Sendable, Equatable {
    /// The dimension sizes, outermost first.
    public let dimensions: [Int]
    /// The values in row-major order.
    public let bytes: [UInt8]

    /// The IDX data type code of unsigned bytes, the only type this reader accepts.
    public static let unsignedByteType: UInt8 = 0x08

    /// Reads an IDX file of unsigned bytes, gzip-compressed or not.
    ///
    /// The file counts as gzip when it starts with the gzip magic bytes 1F 8B, whatever its
    /// name. Sizes are checked before anything is allocated from them: the dimensions of an
    /// uncompressed file must account for its length exactly, and a compressed file cannot
    /// claim more data than deflate could expand it to (1032 times its length). Memory then
    /// grows with the data actually decompressed.
    ///
    /// - Parameter dimensionCount: The number of dimensions the file must have; `nil`
    ///   accepts any.
    /// - Throws: `DatasetError.unreadableFile` when the file cannot be opened or read,
    ///   `.invalidGzip` for a damaged or truncated gzip stream, and `.invalidIDX` for a wrong
    ///   magic number, a short header, or dimensions that disagree with the data length.
    public static func read(contentsOf path: String, dimensionCount: Int? = nil) throws(DatasetError) -> IDXArray {
        let file = try OpenFile(path: path)
        var source: ByteSource
        if try file.peek(count: 2) == GzipStream.magic {
            source = .gzip(try GzipStream(compressed: file.readAll(), path: path))
        } else {
            source = .raw(file)
        }
        return try parse(&source, path: path, dimensionCount: dimensionCount)
    }

    // MARK: - Parsing

    private static func parse(
        _ source: inout ByteSource, path: String, dimensionCount: Int?
    ) throws(DatasetError) -> IDXArray {
        let content = source.isCompressed ? "the decompressed file" : "the file"

        let magic = try source.read(count: 4)
        guard magic.count == 4 else {
            throw .invalidIDX(path: path, reason: "\(content) has only \(magic.count) bytes, fewer than the 4-byte magic number")
        }
        let magicNumber = magic.reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
        guard magic[0] == 0 && magic[1] == 0 else {
            throw .invalidIDX(path: path, reason: "the magic number \(hex(magicNumber)) does not start with two zero bytes")
        }
        guard magic[2] == unsignedByteType else {
            throw .invalidIDX(
                path: path,
                reason: "the magic number \(hex(magicNumber)) declares data type \(hex(byte: magic[2])) "
                    + "(\(typeName(magic[2]))), but only \(hex(byte: unsignedByteType)) (unsigned byte) is supported")
        }
        let rank = Int(magic[3])
        if let dimensionCount, rank != dimensionCount {
            let expectedMagic = UInt32(unsignedByteType) << 8 | UInt32(dimensionCount)
            throw .invalidIDX(
                path: path,
                reason: "the magic number \(hex(magicNumber)) declares \(rank) dimensions, expected "
                    + "\(dimensionCount) (magic number \(hex(expectedMagic)))")
        }

        let headerLength = 4 + 4 * rank
        let sizeBytes = try source.read(count: 4 * rank)
        guard sizeBytes.count == 4 * rank else {
            throw .invalidIDX(
                path: path,
                reason: "\(content) ends after \(4 + sizeBytes.count) bytes, inside the \(headerLength)-byte "
                    + "header of \(rank) dimensions")
        }
        let dimensions = (0..<rank).map { d in
            sizeBytes[(4 * d)..<(4 * d + 4)].reduce(0) { ($0 << 8) | Int($1) }
        }
        let shape = dimensions.map(String.init).joined(separator: " × ")
        var declared = 1
        for size in dimensions {
            let (product, overflow) = declared.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw .invalidIDX(path: path, reason: "the dimensions \(shape) describe more bytes than memory can address")
            }
            declared = product
        }

        func lengthMismatch(found: String) -> DatasetError {
            .invalidIDX(
                path: path,
                reason: "the dimensions \(shape) need \(declared) data bytes after the \(headerLength)-byte "
                    + "header, but \(content) has \(found)")
        }

        // Bound the allocation by what the file can hold before trusting the header.
        let reserved: Int
        switch source {
        case .raw(let file):
            let available = file.size - headerLength
            guard available == declared else { throw lengthMismatch(found: "\(available)") }
            reserved = declared
        case .gzip(let stream):
            let limit = 1032 * stream.compressedCount
            guard declared <= limit else {
                throw .invalidIDX(
                    path: path,
                    reason: "the dimensions \(shape) need \(declared) data bytes, more than the "
                        + "\(stream.compressedCount)-byte gzip file can expand to (at most \(limit))")
            }
            // The gzip trailer records the length modulo 2³² of the last member only, so it is
            // a hint. Without agreement the buffer grows as data arrives.
            let expectedRecord = UInt32(truncatingIfNeeded: headerLength + declared)
            reserved = stream.recordedSizeModulo32 == expectedRecord ? declared : 0
        }

        let data = try source.read(count: declared, reservingCapacity: reserved)
        guard data.count == declared else { throw lengthMismatch(found: "only \(data.count)") }
        let trailing = try source.countRemaining()
        guard trailing == 0 else { throw lengthMismatch(found: "\(declared + trailing)") }
        return IDXArray(dimensions: dimensions, bytes: data)
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    private static func hex(byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return "0x" + (digits.count < 2 ? "0" : "") + digits
    }

    private static func typeName(_ code: UInt8) -> String {
        switch code {
        case 0x09: "signed byte"
        case 0x0B: "16-bit integer"
        case 0x0C: "32-bit integer"
        case 0x0D: "32-bit float"
        case 0x0E: "64-bit float"
        default: "not an IDX type"
        }
    }
}

/// The decompressed content of a file, read front to back.
private enum ByteSource {
    case raw(OpenFile)
    case gzip(GzipStream)

    var isCompressed: Bool {
        if case .gzip = self { return true }
        return false
    }

    private func read(into buffer: UnsafeMutableRawBufferPointer) throws(DatasetError) -> Int {
        switch self {
        case .raw(let file): try file.read(into: buffer)
        case .gzip(let stream): try stream.read(into: buffer)
        }
    }

    /// Up to `count` bytes; fewer only at the end of the content.
    ///
    /// Reads in chunks of at most 1 MiB, so that memory beyond `reservingCapacity` grows
    /// only as data arrives.
    func read(count: Int, reservingCapacity capacity: Int = 0) throws(DatasetError) -> [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(capacity)
        var chunk = [UInt8](repeating: 0, count: min(count, 1 << 20))
        while result.count < count {
            let requested = min(chunk.count, count - result.count)
            var received = 0
            var failure: DatasetError?
            chunk.withUnsafeMutableBytes { buffer in
                do throws(DatasetError) {
                    received = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<requested]))
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            if received == 0 { break }
            result.append(contentsOf: chunk[0..<received])
        }
        return result
    }

    /// Reads to the end and returns how many bytes were left.
    func countRemaining() throws(DatasetError) -> Int {
        var total = 0
        while true {
            let count = try read(count: 1 << 16).count
            if count == 0 { return total }
            total += count
        }
    }
}
