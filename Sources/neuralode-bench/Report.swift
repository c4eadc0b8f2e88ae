#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `text` to the standard error stream, unbuffered.
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { buffer in
            write(2, buffer.baseAddress! + offset, buffer.count - offset)
        }
        if written <= 0 { return }
        offset += written
    }
}

/// A value of an extra field in a benchmark record.
enum FieldValue {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)

    var json: String {
        switch self {
        case .string(let text): return jsonQuoted(text)
        case .int(let value): return String(value)
        case .double(let value): return value.isFinite ? "\(value)" : "null"
        case .bool(let value): return value ? "true" : "false"
        }
    }
}

/// One measured benchmark, with the fields that `Benchmarks/reference/bench_common.py` writes:
/// `name`, `size`, `median_ms`, `p90_ms`, `iterations` and `library`, then extra fields in the
/// order they were added, then the machine fields.
struct BenchmarkRecord {
    var name: String
    var size: Int
    var samples: TimingSamples
    /// Extra fields, such as `gflops` or `shape`, in output order.
    var fields: [(key: String, value: FieldValue)] = []
    /// A short note for the table's last column, such as "41.2 GFLOP/s".
    var note: String = ""
    /// The measured library: this package, or a library that it calls, timed directly.
    var library = "neuralode-swift"

    mutating func add(_ key: String, _ value: FieldValue) {
        fields.append((key, value))
    }

    func jsonLine(machine: [(key: String, value: FieldValue)]) -> String {
        var parts = [
            "\"name\": \(jsonQuoted(name))",
            "\"size\": \(size)",
            "\"median_ms\": \(samples.median * 1e3)",
            "\"p90_ms\": \(samples.p90 * 1e3)",
            "\"iterations\": \(samples.perCall.count)",
            // The fastest sample: a floor that other processes on the machine cannot raise.
            "\"min_ms\": \(samples.quantile(0) * 1e3)",
            "\"library\": \(jsonQuoted(library))",
        ]
        for (key, value) in fields + machine {
            parts.append("\(jsonQuoted(key)): \(value.json)")
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}

func jsonQuoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}

/// Formats seconds with three significant digits in s, ms, µs or ns.
func formatDuration(_ seconds: Double) -> String {
    let (value, unit): (Double, String)
    if seconds >= 1 {
        (value, unit) = (seconds, "s")
    } else if seconds >= 1e-3 {
        (value, unit) = (seconds * 1e3, "ms")
    } else if seconds >= 1e-6 {
        (value, unit) = (seconds * 1e6, "µs")
    } else {
        (value, unit) = (seconds * 1e9, "ns")
    }
    return formatSignificant(value, digits: 3) + " " + unit
}

/// Formats `value` with `digits` significant digits, without an exponent.
func formatSignificant(_ value: Double, digits: Int) -> String {
    guard value.isFinite, value != 0 else { return "\(value)" }
    let magnitude = Int((Swift.abs(value)).logarithmBase10.rounded(.down))
    let decimals = Swift.max(0, digits - 1 - magnitude)
    return formatFixed(value, decimals: decimals)
}

/// Formats `value` with a fixed number of decimals.
func formatFixed(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (Swift.abs(value) * scale).rounded()
    let whole = Int(rounded / scale)
    let fraction = Int(rounded - Double(whole) * scale)
    var text = (value < 0 ? "-" : "") + String(whole)
    if decimals > 0 {
        let digits = String(fraction)
        text += "." + String(repeating: "0", count: decimals - digits.count) + digits
    }
    return text
}

extension Double {
    fileprivate var logarithmBase10: Double { log10(self) }
}

/// Prints records as an aligned table or as JSON lines.
final class Reporter {
    let json: Bool
    let threads: Int
    private var printedHeader = false

    init(json: Bool, threads: Int) {
        self.json = json
        self.threads = threads
    }

    private static let columns: [(title: String, width: Int, leftAligned: Bool)] = [
        ("name", 34, true), ("size", 6, false), ("iterations", 10, false),
        ("median", 10, false), ("p90", 10, false), ("", 0, true),
    ]

    func report(_ record: BenchmarkRecord) {
        if json {
            // The load average is read per record, because other processes on a small machine skew
            // every number.
            print(record.jsonLine(machine: Reporter.machineFields(threads: threads)))
        } else {
            if !printedHeader {
                printRow(Reporter.columns.map { $0.title })
                printedHeader = true
            }
            printRow([
                record.name, String(record.size), String(record.samples.perCall.count),
                formatDuration(record.samples.median), formatDuration(record.samples.p90),
                record.note,
            ])
        }
        // Flushes every stream, so that partial runs keep their output.
        fflush(nil)
    }

    private func printRow(_ cells: [String]) {
        var line = ""
        for (cell, column) in zip(cells, Reporter.columns) {
            let padding = String(repeating: " ", count: Swift.max(0, column.width - cell.count))
            line += column.leftAligned ? cell + padding : padding + cell
            line += "  "
        }
        while line.last == " " { line.removeLast() }
        print(line)
    }

    private static func machineFields(threads: Int) -> [(key: String, value: FieldValue)] {
        var loads = [Double](repeating: 0, count: 3)
        let loadCount = getloadavg(&loads, 3)
        var fields: [(key: String, value: FieldValue)] = [
            ("threads", .int(threads)),
            ("dtype", .string("float32")),
            ("swift", .string(compilerVersion)),
            ("machine", .string(machineName())),
            ("cpu_count", .int(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))),
        ]
        if loadCount >= 1 {
            fields.append(("loadavg_1m", .double((loads[0] * 100).rounded() / 100)))
        }
        // OpenBLAS picks its kernels by this variable when it is set (Haswell: AVX2 kernels even
        // on AVX-512 processors), so it changes every BLAS-bound number.
        let coreType = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) } ?? ""
        fields.append(("openblas_coretype", .string(coreType)))
        return fields
    }

    private static func machineName() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.machine) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// The compiler's major and minor version, from conditional compilation.
let compilerVersion: String = {
    #if compiler(>=6.4)
    return "6.4 or later"
    #elseif compiler(>=6.3)
    return "6.3"
    #elseif compiler(>=6.2)
    return "6.2"
    #else
    return "6.1 or earlier"
    #endif
}()
