#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary files of atomic writes: a write goes to `.<name>.<pid>.<hex>.tmp` in the
/// target's folder and is then renamed over the target `<name>`.
///
/// The checkpoint, picture and CSV writers of this package share the naming, so that each can
/// remove what a killed writer of the same target left behind.
public enum TemporaryFile {
    /// Returns a new temporary file name for the target `fileName`, owned by this process.
    public static func name(for fileName: String) -> String {
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return ".\(fileName).\(getpid()).\(suffix).tmp"
    }

    /// Deletes the temporary files of the target `fileName` in `folder` whose writer process no
    /// longer exists, such as those of a run killed while saving.
    ///
    /// A file whose process id is alive (or reused by another process) is kept, so a
    /// concurrent writer keeps its file. Failures are ignored, because a stale file wastes space
    /// but does no harm. NOTE: a writer in another PID namespace (another container sharing the
    /// folder) looks dead from here, and its file can be deleted.
    public static func removeStale(in folder: String, fileName: String) {
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        let prefix = ".\(fileName)."
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(prefix), name.hasSuffix(".tmp") else { continue }
            let middle = name.dropFirst(prefix.count).dropLast(4)
                .split(separator: ".", omittingEmptySubsequences: false)
            guard middle.count == 2, let pid = pid_t(middle[0]), pid > 0, pid != getpid(),
                UInt64(middle[1], radix: 16) != nil
            else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink(folder + "/" + name)
            }
        }
    }
}
