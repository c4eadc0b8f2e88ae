import Experiments
import Foundation
import Testing

@Suite("AtomicFile")
struct AtomicFileTests {
    /// Creates a new empty folder under the system's temporary folder.
    func makeFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("write replaces the file and leaves no temporary")
    func writeReplaces() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("loss.csv")
        try AtomicFile.write("a\n", to: target)
        try AtomicFile.write("b\n", to: target)
        #expect(try String(contentsOf: target, encoding: .utf8) == "b\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["loss.csv"])
    }

    @Test("write removes temporaries of dead writers only")
    func staleTemporaries() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Process ids above the kernel's pid_max (at most 2^22) never exist; pid 1 always does.
        let stale = ".loss.csv.2147483000.1f.tmp"
        let live = ".loss.csv.1.2a.tmp"
        let otherTarget = ".other.csv.2147483000.3b.tmp"
        let unrelated = ".loss.csv.notes.tmp"
        for name in [stale, live, otherTarget, unrelated] {
            try Data([1]).write(to: folder.appendingPathComponent(name))
        }
        try AtomicFile.write("x\n", to: folder.appendingPathComponent("loss.csv"))
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        #expect(!names.contains(stale))
        #expect(names.contains(live))
        #expect(names.contains(otherTarget))
        #expect(names.contains(unrelated))
        #expect(names.contains("loss.csv"))
    }

    @Test("file in place of folder gives a plain message")
    func fileInPlaceOfFolder() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let blocker = folder.appendingPathComponent("out")
        try Data("x".utf8).write(to: blocker)
        let nested = blocker.appendingPathComponent("deeper")
        for attempt in [{ try AtomicFile.write("y", to: blocker.appendingPathComponent("loss.csv")) },
                        { try AtomicFile.prepareFolder(blocker) },
                        { try AtomicFile.prepareFolder(nested) }] {
            do {
                try attempt()
                Issue.record("no error was thrown")
            } catch let error as FileWriteError {
                #expect(error.description.hasPrefix("cannot write \(folder.path)/out"), "\(error)")
                #expect(error.description.contains("a file exists where a folder is expected"), "\(error)")
                #expect(!error.description.contains("NSCocoaErrorDomain"), "\(error)")
            }
        }
    }

    @Test("prepareFolder creates the folder and leaves it empty")
    func prepareFolderCreates() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("a/b")
        try AtomicFile.prepareFolder(output)
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
    }
}
