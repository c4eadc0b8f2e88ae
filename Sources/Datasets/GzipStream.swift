import CZlib

/// The decompressed bytes of a gzip file held in memory, produced on demand with zlib's
/// `inflate`.
///
/// Several gzip members one after another (as `cat a.gz b.gz` makes) decompress to the
/// concatenation of their contents, as `gzip -d` does.
final class GzipStream {
    let path: String
    private var stream = z_stream()
    private let input: UnsafeMutableBufferPointer<UInt8>
    /// The length of the compressed input.
    let compressedCount: Int
    /// Bytes of `input` handed to zlib so far. zlib's `avail_in` is 32-bit, so larger inputs
    /// go in pieces.
    private var inputHandedOver = 0
    private var memberEnded = false

    /// The gzip magic number that starts every member (RFC 1952).
    static let magic: [UInt8] = [0x1F, 0x8B]

    init(compressed: [UInt8], path: String) throws(DatasetError) {
        self.path = path
        compressedCount = compressed.count
        input = .allocate(capacity: max(1, compressed.count))
        _ = input.initialize(from: compressed)
        // windowBits 16 + MAX_WBITS selects the gzip wrapper with the largest window.
        let status = inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            input.deallocate()
            throw .invalidGzip(path: path, reason: "zlib could not start decompressing (status \(status))")
        }
        refillInput()
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    /// The uncompressed length modulo 2³² recorded in the last member's trailer (RFC 1952
    /// ISIZE), or `nil` when the input is too short to have one.
    var recordedSizeModulo32: UInt32? {
        guard compressedCount >= 18 else { return nil }
        var size: UInt32 = 0
        for i in 0..<4 { size |= UInt32(input[compressedCount - 4 + i]) << (8 * UInt32(i)) }
        return size
    }

    private func refillInput() {
        guard stream.avail_in == 0, inputHandedOver < compressedCount else { return }
        let piece = min(compressedCount - inputHandedOver, Int(UInt32.max))
        stream.next_in = input.baseAddress! + inputHandedOver
        stream.avail_in = UInt32(piece)
        inputHandedOver += piece
    }

    /// The compressed bytes zlib has not consumed yet.
    private var remainingInput: Int {
        compressedCount - inputHandedOver + Int(stream.avail_in)
    }

    /// Decompresses until `buffer` is full or the last member ends; returns the number of
    /// bytes written.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DatasetError) -> Int {
        var produced = 0
        while produced < buffer.count {
            if memberEnded {
                // Another member may follow; anything else after a member is damage.
                guard remainingInput > 0 else { break }
                let next = input.baseAddress! + (compressedCount - remainingInput)
                guard remainingInput >= 2 && next[0] == Self.magic[0] && next[1] == Self.magic[1] else {
                    throw .invalidGzip(
                        path: path,
                        reason: "\(remainingInput) bytes that are not gzip data follow the end of the stream")
                }
                inflateReset(&stream)
                memberEnded = false
            }
            refillInput()
            let room = min(buffer.count - produced, Int(UInt32.max))
            stream.next_out = (buffer.baseAddress! + produced).assumingMemoryBound(to: UInt8.self)
            stream.avail_out = UInt32(room)
            let status = inflate(&stream, Z_NO_FLUSH)
            produced += room - Int(stream.avail_out)
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                memberEnded = true
            case Z_BUF_ERROR where remainingInput == 0:
                throw .invalidGzip(
                    path: path,
                    reason: "the compressed stream ends early, after all \(compressedCount) bytes of the file, "
                        + "so the file is truncated")
            case Z_DATA_ERROR, Z_NEED_DICT:
                throw .invalidGzip(path: path, reason: zlibMessage(default: "the compressed data is corrupt"))
            case Z_MEM_ERROR:
                throw .invalidGzip(path: path, reason: "zlib ran out of memory")
            default:
                throw .invalidGzip(path: path, reason: zlibMessage(default: "zlib failed with status \(status)"))
            }
        }
        return produced
    }

    private func zlibMessage(default fallback: String) -> String {
        guard let message = stream.msg else { return fallback }
        return "zlib reports \"\(String(cString: message))\""
    }
}
