import FileSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes whole files so that readers see either the old file or the complete new one.
///
/// The bytes go to a hidden temporary file in the destination folder, which is flushed to
/// disk and then renamed over the destination. `rename` is atomic within one file system,
/// so an interrupted run leaves at most a stray `.<name>.<pid>.<hex>.tmp` file (removed by the
/// next write of the same picture once its process has ended), never a truncated picture under
/// the final name.
enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: String) throws(PlottingError) {
        let (folder, name) = splitPath(path)
        guard !name.isEmpty else {
            throw .writeFailed(path: path, reason: "the path names a folder, not a file")
        }
        let temporaryPath = "\(folder)/" + TemporaryFile.name(for: name)
        TemporaryFile.removeStale(in: folder, fileName: name)

        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw .writeFailed(path: path, reason: "cannot create a file in '\(folder)' (\(systemMessage()))")
        }

        var failure: String?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = writeBytes(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = "writing failed after \(offset) of \(buffer.count) bytes (\(systemMessage()))"
                    return
                }
                offset += written
            }
        }
        if failure == nil && fsync(descriptor) != 0 {
            failure = "flushing to disk failed (\(systemMessage()))"
        }
        if close(descriptor) != 0 && failure == nil {
            failure = "closing the file failed (\(systemMessage()))"
        }
        if failure == nil && rename(temporaryPath, path) != 0 {
            failure = "renaming '\(temporaryPath)' into place failed (\(systemMessage()))"
        }
        if let failure {
            unlink(temporaryPath)
            throw .writeFailed(path: path, reason: failure)
        }
    }

    /// Splits `path` into folder and file name. The folder of a bare name is ".".
    private static func splitPath(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = path[..<slash]
        return (folder.isEmpty ? "/" : String(folder), String(path[path.index(after: slash)...]))
    }

    private static func systemMessage() -> String {
        String(cString: strerror(errno))
    }
}

/// POSIX `write`, under a name that the static `AtomicFile.write` does not shadow.
private func writeBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
