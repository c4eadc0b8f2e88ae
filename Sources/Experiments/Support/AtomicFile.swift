import FileSupport
import Foundation

/// A failed file write, with the path and the cause in plain words.
public struct FileWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "cannot write \(path): \(reason)" }
}

/// Writes files so that an interrupted run never leaves a partial one: the data goes to a
/// temporary file `.<name>.<pid>.<hex>.tmp` in the same folder, which is then renamed over
/// the target.
public enum AtomicFile {
    /// Writes `data` to `url`, creating the folder if needed.
    ///
    /// Before writing, deletes the temporary files of `url` left by processes that no longer
    /// exist (runs killed while saving).
    ///
    /// - Throws: `FileWriteError` naming the path and the cause when the folder cannot be
    ///   created or the file cannot be written or renamed.
    public static func write(_ data: Data, to url: URL) throws(FileWriteError) {
        let folder = url.deletingLastPathComponent()
        try createFolder(folder)
        TemporaryFile.removeStale(in: folder.path, fileName: url.lastPathComponent)
        let temporary = folder.appendingPathComponent(TemporaryFile.name(for: url.lastPathComponent))
        do {
            try data.write(to: temporary)
        } catch {
            throw FileWriteError(path: url.path, reason: plainReason(error))
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw FileWriteError(path: url.path, reason: "renaming the temporary file \(temporary.path) failed (\(reason))")
        }
    }

    /// Writes `text` as UTF-8 to `url`.
    public static func write(_ text: String, to url: URL) throws(FileWriteError) {
        try write(Data(text.utf8), to: url)
    }

    /// Creates `folder` if needed and checks that a file can be created in it, by writing and
    /// deleting an empty probe file. Run it before long work whose results go to `folder`.
    ///
    /// - Throws: `FileWriteError` naming the folder and the cause.
    public static func prepareFolder(_ folder: URL) throws(FileWriteError) {
        try createFolder(folder)
        let probe = folder.appendingPathComponent(".write-check.\(getpid()).tmp")
        do {
            try Data().write(to: probe)
        } catch {
            throw FileWriteError(path: folder.path, reason: plainReason(error))
        }
        try? FileManager.default.removeItem(at: probe)
    }

    /// Creates `folder` and its missing parents with `mkdir`, whose `errno` gives a precise cause
    /// (Foundation's `createDirectory` reports only a generic error on Linux).
    private static func createFolder(_ folder: URL) throws(FileWriteError) {
        var missing: [URL] = []
        var current = folder.standardizedFileURL
        var isFolder: ObjCBool = false
        while !FileManager.default.fileExists(atPath: current.path, isDirectory: &isFolder) {
            missing.append(current)
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        if FileManager.default.fileExists(atPath: current.path) && !isFolder.boolValue {
            throw FileWriteError(path: current.path, reason: "a file exists where a folder is expected")
        }
        for url in missing.reversed() where mkdir(url.path, 0o777) != 0 && errno != EEXIST {
            throw FileWriteError(path: url.path, reason: "the folder cannot be created (\(posixReason(errno)))")
        }
    }

    /// Returns the cause of a Foundation file error as a short phrase, without the error's
    /// domain, code and user-info dump.
    static func plainReason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return posixReason(Int32(underlying.code))
        }
        if nsError.domain == NSPOSIXErrorDomain { return posixReason(Int32(nsError.code)) }
        switch CocoaError.Code(rawValue: nsError.code) {
        case .fileWriteFileExists: return "a file exists where a folder is expected"
        case .fileWriteNoPermission: return "permission denied"
        case .fileWriteOutOfSpace: return "no space left on the device"
        case .fileWriteVolumeReadOnly: return "the file system is read-only"
        case .fileNoSuchFile: return "a folder on the path does not exist"
        default: return nsError.localizedDescription
        }
    }

    private static func posixReason(_ code: Int32) -> String {
        switch code {
        case EEXIST, ENOTDIR: return "a file exists where a folder is expected"
        case EACCES, EPERM: return "permission denied"
        default: return String(cString: strerror(code))
        }
    }
}
