import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs this executable again as `executable area`, with `configuration` in the environment
/// variable `variable`, and returns the numbers on the line of its standard output that starts
/// with `resultPrefix` and a space.
///
/// Memory measurements use a fresh process per row, so that one row's peak resident size does
/// not depend on the rows before it. Failures stop the run with a message that starts with
/// `label`.
func runMeasurementProcess(
    area: String, variable: String, configuration: String, resultPrefix: String, valueCount: Int,
    label: String
) -> [Double] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: currentExecutablePath())
    process.arguments = [area]
    var environment = ProcessInfo.processInfo.environment
    environment[variable] = configuration
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    // The child's progress lines would repeat the parent's.
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    do {
        try process.run()
    } catch {
        fail("\(label): cannot start a measurement process: \(error)")
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0,
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix(resultPrefix + " ") })
    else {
        fail(
            "\(label): the measurement of \(configuration) failed (status \(process.terminationStatus)): "
                + text)
    }
    let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard values.count == valueCount else { fail("\(label): cannot parse '\(line)'") }
    return values
}

/// Returns the path of the running executable, from /proc/self/exe, or the first command-line
/// argument where that link cannot be read.
private func currentExecutablePath() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { return CommandLine.arguments[0] }
    return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Reads a `kB` field such as `VmRSS` or `VmHWM` from /proc/self/status, or stops with a
/// message that starts with `label`.
func processStatusKiB(_ field: String, label: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
        fail("\(label): cannot read /proc/self/status")
    }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        if let value = Int(line.dropFirst(field.count + 1).filter(\.isNumber)) { return value }
    }
    fail("\(label): no \(field) in /proc/self/status")
}
