import FileSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic whole-file writes with POSIX calls, reporting failures as
/// `CheckpointError`s with the system's message.
enum FileIO {
    /// Reads the whole file at `path`.
    static func contents(ofFile path: String) throws(CheckpointError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CheckpointError(path: path, problem: .unreadable(reason: systemMessage())) }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw CheckpointError(path: path, problem: .unreadable(reason: systemMessage()))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError(path: path, problem: .unreadable(reason: "not a regular file"))
        }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw CheckpointError(path: path, problem: .unreadable(reason: systemMessage())) }
            // The file shrank while it was read; keep what was there.
            if count == 0 {
                bytes.removeLast(bytes.count - filled)
                break
            }
            filled += count
        }
        return bytes
    }

    /// Writes `bytes` to a new temporary file in the folder of `path`, flushes it to disk,
    /// then renames it over `path`, so that a reader sees either the old file or the whole
    /// new one, never a partial write.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(CheckpointError) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let fileName = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporaryPath = (folder.isEmpty ? "" : folder + "/") + TemporaryFile.name(for: fileName)
        TemporaryFile.removeStale(in: folder.isEmpty ? "/" : folder, fileName: fileName)

        func failure(_ reason: String) -> CheckpointError {
            CheckpointError(path: path, problem: .writeFailed(reason: reason))
        }

        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot create \(temporaryPath): \(systemMessage())") }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let message = systemMessage()
                close(descriptor)
                unlink(temporaryPath)
                throw failure("cannot write \(temporaryPath): \(message)")
            }
            written += count
        }
        guard fsync(descriptor) == 0 else {
            let message = systemMessage()
            close(descriptor)
            unlink(temporaryPath)
            throw failure("cannot flush \(temporaryPath): \(message)")
        }
        close(descriptor)
        guard rename(temporaryPath, path) == 0 else {
            let message = systemMessage()
            unlink(temporaryPath)
            throw failure("cannot rename \(temporaryPath) to \(path): \(message)")
        }
        // Flush the folder entry too, so the rename survives a power failure. A failure here
        // leaves a complete file in place, so it is not reported.
        let folderDescriptor = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }

    private static func systemMessage() -> String {
        String(cString: strerror(errno))
    }
}
