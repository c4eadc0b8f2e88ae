#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open file read with POSIX calls, so that its size is known before anything is
/// allocated from its content.
final class OpenFile {
    let path: String
    private let descriptor: Int32
    /// The file's length in bytes when it was opened.
    let size: Int

    init(path: String) throws(DatasetError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .unreadableFile(path: path, reason: Self.systemMessage())
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = Self.systemMessage()
            close(descriptor)
            throw .unreadableFile(path: path, reason: reason)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw .unreadableFile(path: path, reason: "it is not a regular file")
        }
        self.descriptor = descriptor
        self.size = Int(status.st_size)
    }

    deinit {
        close(descriptor)
    }

    /// Reads until `buffer` is full or the file ends; returns the number of bytes read.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DatasetError) -> Int {
        var total = 0
        while total < buffer.count {
            let count = readBytes(descriptor, buffer.baseAddress! + total, buffer.count - total)
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadableFile(path: path, reason: Self.systemMessage())
            }
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// Returns the first `count` bytes of the file (fewer if it is shorter), without moving
    /// the read position.
    func peek(count: Int) throws(DatasetError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { buffer in pread(descriptor, buffer.baseAddress!, count, 0) }
        guard read >= 0 else { throw .unreadableFile(path: path, reason: Self.systemMessage()) }
        bytes.removeLast(count - read)
        return bytes
    }

    /// Reads the whole file, for compressed files whose size the file system bounds.
    func readAll() throws(DatasetError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        var count = 0
        var failure: DatasetError?
        bytes.withUnsafeMutableBytes { buffer in
            do throws(DatasetError) { count = try read(into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        bytes.removeLast(size - count)
        return bytes
    }

    static func systemMessage() -> String {
        String(cString: strerror(errno))
    }
}

/// POSIX `read`, under a name that `OpenFile.read(into:)` does not shadow.
private func readBytes(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
