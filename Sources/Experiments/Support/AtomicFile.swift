import Foundation

/// Writes files so that an interrupted run never leaves a partial one: the data goes to a
/// temporary file in the same folder, which is then renamed over the target.
public enum AtomicFile {
    /// Writes `data` to `url`, creating the folder if needed.
    ///
    /// - Throws: The underlying error with the path when the folder cannot be created or the
    ///   file cannot be written or renamed.
    public static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        try data.write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, NSLocalizedDescriptionKey: "could not rename \(temporary.path) to \(url.path): \(reason)"])
        }
    }

    /// Writes `text` as UTF-8 to `url`.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }
}
