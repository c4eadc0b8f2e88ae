#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes whole files so that readers see either the old file or the complete new one.
///
/// The bytes go to a hidden temporary file in the destination folder, which is flushed to
/// disk and then renamed over the destination. `rename` is atomic within one file system,
/// so an interrupted run leaves at most a stray `.name.tmp-…` file, never a truncated
/// picture under the final name.
enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: String) throws(PlottingError) {
        let (folder, name) = splitPath(path)
        guard !name.isEmpty else {
            throw .writeFailed(path: path, reason: "the path names a folder, not a file")
        }
        let temporaryPath = "\(folder)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        removeStaleTemporaryFiles(in: folder, name: name)

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

    /// Deletes the files `.<name>.tmp-<pid>-<number>` in `folder` whose writer process no
    /// longer exists, such as those of a run killed while saving. A file whose process id is
    /// alive (or reused) is kept. NOTE: a writer in another PID namespace (another container
    /// sharing the folder) looks dead from here, and its file can be deleted.
    static func removeStaleTemporaryFiles(in folder: String, name: String) {
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        let prefix = ".\(name).tmp-"
        while let entry = readdir(directory) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard entryName.hasPrefix(prefix) else { continue }
            let parts = entryName.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0, pid != getpid(), UInt32(parts[1]) != nil
            else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink(folder + "/" + entryName)
            }
        }
    }

    private static func systemMessage() -> String {
        String(cString: strerror(errno))
    }
}

/// POSIX `write`, under a name that the static `AtomicFile.write` does not shadow.
private func writeBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
