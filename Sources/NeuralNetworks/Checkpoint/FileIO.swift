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
        var generator = SystemRandomNumberGenerator()
        let suffix = String(UInt64.random(in: 0...UInt64.max, using: &generator), radix: 16)
        let temporaryPath = (folder.isEmpty ? "" : folder + "/") + ".\(fileName).\(getpid()).\(suffix).tmp"
        removeStaleTemporaryFiles(in: folder.isEmpty ? "/" : folder, fileName: fileName)

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

    /// Deletes the temporary files `.<fileName>.<pid>.<hex>.tmp` in `folder` whose writer
    /// process no longer exists, such as those of a run killed while saving.
    ///
    /// A file whose process id is alive (or reused by another process) is kept, so a
    /// concurrent writer keeps its file. NOTE: a writer in another PID namespace (another
    /// container sharing the folder) looks dead from here, and its file can be deleted. Failures are ignored: a stale file wastes space
    /// but does no harm.
    static func removeStaleTemporaryFiles(in folder: String, fileName: String) {
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        let prefix = ".\(fileName)."
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(prefix), name.hasSuffix(".tmp") else { continue }
            let middle = name.dropFirst(prefix.count).dropLast(4).split(separator: ".", omittingEmptySubsequences: false)
            guard middle.count == 2, let pid = pid_t(middle[0]), pid > 0, pid != getpid(),
                UInt64(middle[1], radix: 16) != nil
            else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink(folder + "/" + name)
            }
        }
    }

    private static func systemMessage() -> String {
        String(cString: strerror(errno))
    }
}
