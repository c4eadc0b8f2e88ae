import Foundation

/// An error in a time-series CSV file, with the line number (1-based) where it was found.
public enum TimeSeriesCSVError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadableFile(path: String, reason: String)
    /// The file has no header line.
    case emptyFile(path: String)
    /// The header has fewer than three columns or repeats a name.
    case invalidHeader(path: String, line: Int, reason: String)
    /// A row has another number of fields than the header.
    case wrongFieldCount(path: String, line: Int, expected: Int, found: Int)
    /// A quoted field is not closed before the end of its line.
    case unterminatedQuote(path: String, line: Int)
    /// The series name is empty.
    case missingSeriesID(path: String, line: Int)
    /// The time field is empty, not a number, or not finite.
    case invalidTime(path: String, line: Int, text: String)
    /// A value field is neither empty nor a finite number.
    case invalidValue(path: String, line: Int, column: String, text: String)
    /// Every value field of the row is empty.
    case noObservedValues(path: String, line: Int)
    /// The series already has a row at this time.
    case duplicateTime(path: String, line: Int, series: String, time: Double, firstLine: Int)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "Cannot read '\(path)': \(reason). Check that the path is right and the file is readable."
        case let .emptyFile(path):
            return "'\(path)' is empty. Expected a header line such as 'series,time,x,y' followed by one row per observation."
        case let .invalidHeader(path, line, reason):
            return "'\(path)' line \(line): invalid header: \(reason). Expected the series column, the time column and at least one value column, such as 'series,time,x,y'."
        case let .wrongFieldCount(path, line, expected, found):
            return "'\(path)' line \(line): \(found) fields, expected \(expected) as in the header. Leave a missing value empty but keep its comma."
        case let .unterminatedQuote(path, line):
            return "'\(path)' line \(line): a quoted field is not closed. Close the quote on the same line; fields may not span lines."
        case let .missingSeriesID(path, line):
            return "'\(path)' line \(line): the series field is empty. Give every row the name of its series."
        case let .invalidTime(path, line, text):
            return "'\(path)' line \(line): invalid time '\(text)'. Expected a finite decimal number, such as 0.25 or 1e-3."
        case let .invalidValue(path, line, column, text):
            return "'\(path)' line \(line): invalid value '\(text)' in column '\(column)'. Expected a finite decimal number, such as 0.25 or 1e-3, or an empty field for a missing value."
        case let .noObservedValues(path, line):
            return "'\(path)' line \(line): every value is missing. Remove the row or fill in at least one value."
        case let .duplicateTime(path, line, series, time, firstLine):
            return "'\(path)' line \(line): series '\(series)' already has time \(time) on line \(firstLine). Merge the two rows or remove one."
        }
    }
}

/// Reads irregularly sampled multivariate time series from CSV.
///
/// The format: a header line, then one row per observation. The first column names the series,
/// the second is the observation time, and every further column is one channel, named in the
/// header:
///
/// ```
/// series,time,x,y
/// a,0.0,1.5,-0.2
/// a,0.7,,0.4
/// b,0.1,0.3,0.9
/// ```
///
/// An empty value field is a missing value, so series may observe different channels at
/// different times. Rows of one series may be in any order and interleaved with other series;
/// each series is sorted by time. Fields may be quoted with `"` (a doubled `""` inside quotes is
/// one quote). Blank lines are skipped, and so is a byte-order mark. Lines end with `\n` or
/// `\r\n`.
public enum TimeSeriesCSV {
    /// Reads the file at `path`.
    ///
    /// - Throws: `TimeSeriesCSVError` naming the file, and the line of the first bad row.
    public static func load(from path: String) throws(TimeSeriesCSVError) -> IrregularTimeSeriesDataset {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = (error as NSError).localizedDescription
            throw .unreadableFile(path: path, reason: reason.hasSuffix(".") ? String(reason.dropLast()) : reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadableFile(path: path, reason: "the file is not UTF-8 text")
        }
        return try parse(text, source: path)
    }

    /// Parses CSV text; `source` names it in errors.
    ///
    /// - Throws: `TimeSeriesCSVError` with the line of the first bad row.
    public static func parse(_ text: String, source: String = "<text>") throws(TimeSeriesCSVError)
        -> IrregularTimeSeriesDataset
    {
        // Swift reads "\r\n" as one character, so both line ends are separators.
        var lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }

        // Header.
        guard let headerIndex = lines.firstIndex(where: { !isBlank($0) }) else { throw .emptyFile(path: source) }
        let headerLine = headerIndex + 1
        let header = try fields(of: lines[headerIndex], path: source, line: headerLine)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard header.count >= 3 else {
            throw .invalidHeader(
                path: source, line: headerLine,
                reason: "\(header.count) column\(header.count == 1 ? "" : "s") (\(header.joined(separator: ", ")))")
        }
        let channelNames = Array(header.dropFirst(2))
        if let repeated = duplicate(in: channelNames) {
            throw .invalidHeader(path: source, line: headerLine, reason: "the value column '\(repeated)' appears twice")
        }

        // Rows, grouped by series in order of first appearance.
        var order: [String] = []
        var rowsBySeries: [String: [(time: Double, values: [Float], mask: [Bool], line: Int)]] = [:]
        for index in (headerIndex + 1)..<lines.count where !isBlank(lines[index]) {
            let line = index + 1
            let row = try fields(of: lines[index], path: source, line: line)
            guard row.count == header.count else {
                throw .wrongFieldCount(path: source, line: line, expected: header.count, found: row.count)
            }
            let id = row[0].trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else { throw .missingSeriesID(path: source, line: line) }
            let timeText = row[1].trimmingCharacters(in: .whitespaces)
            guard let time = decimalNumber(timeText), time.isFinite else {
                throw .invalidTime(path: source, line: line, text: row[1])
            }
            var values: [Float] = []
            var mask: [Bool] = []
            for (column, field) in zip(channelNames, row.dropFirst(2)) {
                let trimmed = field.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty {
                    values.append(0)
                    mask.append(false)
                    continue
                }
                guard let value = decimalNumber(trimmed), value.isFinite, Float(value).isFinite else {
                    throw .invalidValue(path: source, line: line, column: column, text: field)
                }
                values.append(Float(value))
                mask.append(true)
            }
            guard mask.contains(true) else { throw .noObservedValues(path: source, line: line) }
            if rowsBySeries[id] == nil { order.append(id) }
            rowsBySeries[id, default: []].append((time, values, mask, line))
        }

        var series: [IrregularTimeSeries] = []
        for id in order {
            // A stable sort keeps file order among equal times, so the error names the later line.
            let rows = rowsBySeries[id]!.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
                .map(\.element)
            for (previous, row) in zip(rows, rows.dropFirst()) where previous.time == row.time {
                throw .duplicateTime(
                    path: source, line: max(row.line, previous.line), series: id, time: row.time,
                    firstLine: min(row.line, previous.line))
            }
            series.append(
                IrregularTimeSeries(
                    id: id, times: rows.map(\.time), values: rows.flatMap(\.values), mask: rows.flatMap(\.mask),
                    channelCount: channelNames.count))
        }
        return IrregularTimeSeriesDataset(channelNames: channelNames, series: series)
    }

    /// Writes `dataset` in the format that `parse` reads, with missing values as empty fields.
    public static func format(_ dataset: IrregularTimeSeriesDataset) -> String {
        var text = (["series", "time"] + dataset.channelNames).map(quoted).joined(separator: ",") + "\n"
        for item in dataset.series {
            for (i, time) in item.times.enumerated() {
                var row = [quoted(item.id), "\(time)"]
                for c in 0..<item.channelCount {
                    let index = i * item.channelCount + c
                    row.append(item.mask[index] ? "\(item.values[index])" : "")
                }
                text += row.joined(separator: ",") + "\n"
            }
        }
        return text
    }

    /// Splits one line into fields, honouring double quotes.
    static func fields(of line: Substring, path: String, line number: Int) throws(TimeSeriesCSVError) -> [String] {
        var result: [String] = []
        var current = ""
        var inQuotes = false
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            index = line.index(after: index)
            if inQuotes {
                if character == "\"" {
                    if index < line.endIndex && line[index] == "\"" {
                        current.append("\"")
                        index = line.index(after: index)
                    } else {
                        inQuotes = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                inQuotes = true
            } else if character == "," {
                result.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        guard !inQuotes else { throw .unterminatedQuote(path: path, line: number) }
        result.append(current)
        return result
    }

    private static func isBlank(_ line: Substring) -> Bool {
        line.allSatisfy { $0 == " " || $0 == "\t" }
    }

    private static func duplicate(in names: [String]) -> String? {
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted { return name }
        return nil
    }

    private static func quoted(_ field: String) -> String {
        field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}

/// Returns the number written in `text` in decimal notation (digits, an optional sign, point
/// and exponent), or nil for anything else. `Double(_:)` alone would also read hexadecimal
/// forms such as `0x1p3`, which a CSV file of measurements does not mean.
private func decimalNumber(_ text: String) -> Double? {
    guard text.utf8.allSatisfy({ byte in
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "-")
    }) else { return nil }
    return Double(text)
}
