import Datasets
import Foundation
import Testing

@Suite("Time-series CSV")
struct LatentCSVTests {
    @Test("reads interleaved series with missing values")
    func validFile() throws {
        let text = """
            series,time,x,y
            a,0.5,1.0,2.0
            b,0.0,3.0,
            a,0.0,-1.5,0.25

            "b,2",1e-1,,4
            b,1.0,5.0,6.0
            """
        let dataset = try TimeSeriesCSV.parse(text)
        #expect(dataset.channelNames == ["x", "y"])
        #expect(dataset.series.map(\.id) == ["a", "b", "b,2"])
        let a = dataset.series[0]
        #expect(a.times == [0.0, 0.5])
        #expect(a.values == [-1.5, 0.25, 1.0, 2.0])
        #expect(a.mask == [true, true, true, true])
        let b = dataset.series[1]
        #expect(b.times == [0.0, 1.0])
        #expect(b.values == [3.0, 0, 5.0, 6.0])
        #expect(b.mask == [true, false, true, true])
        let quoted = dataset.series[2]
        #expect(quoted.times == [0.1])
        #expect(quoted.mask == [false, true])
        #expect(dataset.hasMissingValues)
    }

    @Test("accepts CRLF line ends and a byte-order mark")
    func lineEnds() throws {
        let dataset = try TimeSeriesCSV.parse("\u{FEFF}id,t,v\r\ns,1,2\r\ns,2,3\r\n")
        #expect(dataset.channelNames == ["v"])
        #expect(dataset.series.count == 1)
        #expect(dataset.series[0].times == [1, 2])
        #expect(dataset.series[0].values == [2, 3])
    }

    @Test("format and parse round-trip")
    func roundTrip() throws {
        let original = try TimeSeriesCSV.parse("series,time,x,y\n\"q\"\"a\",0,1,\ns,0.25,,2\ns,1.5,3,4\n")
        let again = try TimeSeriesCSV.parse(TimeSeriesCSV.format(original))
        #expect(again.channelNames == original.channelNames)
        #expect(again.series == original.series)
        #expect(again.series[0].id == "q\"a")
    }

    @Test("load reads a file and names a missing one")
    func loadFromDisk() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("series.csv").path
        try "series,time,x\na,0,1\na,1,2\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try TimeSeriesCSV.load(from: path).series[0].values == [1, 2])

        let missing = folder.appendingPathComponent("absent.csv").path
        #expect {
            _ = try TimeSeriesCSV.load(from: missing)
        } throws: { error in
            guard case .unreadableFile(let reported, _) = error as? TimeSeriesCSVError else { return false }
            return reported == missing
        }
    }

    /// Returns the error of parsing `text`, or `nil` when it parses.
    func parseError(_ text: String) -> TimeSeriesCSVError? {
        do {
            _ = try TimeSeriesCSV.parse(text, source: "data.csv")
            return nil
        } catch {
            return error
        }
    }

    @Test("bad rows are reported with their line numbers")
    func errorLines() {
        let header = "series,time,x,y\n"
        #expect(parseError(header + "a,0,1,2\na,1,2\n") == .wrongFieldCount(path: "data.csv", line: 3, expected: 4, found: 3))
        #expect(parseError(header + "a,0,1,2\n\na,zero,1,2\n") == .invalidTime(path: "data.csv", line: 4, text: "zero"))
        #expect(parseError(header + "a,nan,1,2\n") == .invalidTime(path: "data.csv", line: 2, text: "nan"))
        #expect(parseError(header + "a,,1,2\n") == .invalidTime(path: "data.csv", line: 2, text: ""))
        #expect(parseError(header + "a,0x1p3,1,2\n") == .invalidTime(path: "data.csv", line: 2, text: "0x1p3"))
        #expect(parseError(header + "a,0,0x10,2\n") == .invalidValue(path: "data.csv", line: 2, column: "x", text: "0x10"))
        #expect(
            parseError(header + "a,0,1,2\na,1,1,two\n")
                == .invalidValue(path: "data.csv", line: 3, column: "y", text: "two"))
        #expect(parseError(header + "a,0,inf,2\n") == .invalidValue(path: "data.csv", line: 2, column: "x", text: "inf"))
        #expect(parseError(header + "a,0,1e40,2\n") == .invalidValue(path: "data.csv", line: 2, column: "x", text: "1e40"))
        #expect(parseError(header + "a,0,,\n") == .noObservedValues(path: "data.csv", line: 2))
        #expect(parseError(header + " ,0,1,2\n") == .missingSeriesID(path: "data.csv", line: 2))
        #expect(parseError(header + "\"a,0,1,2\n") == .unterminatedQuote(path: "data.csv", line: 2))
        #expect(
            parseError(header + "a,1,1,2\nb,1,1,2\na,1.0,3,4\n")
                == .duplicateTime(path: "data.csv", line: 4, series: "a", time: 1, firstLine: 2))
    }

    @Test("a bad header or an empty file is reported")
    func headerErrors() {
        #expect(parseError("") == .emptyFile(path: "data.csv"))
        #expect(parseError("\n  \n") == .emptyFile(path: "data.csv"))
        #expect(parseError("\nseries,time\na,0\n") == .invalidHeader(path: "data.csv", line: 2, reason: "2 columns (series, time)"))
        #expect(
            parseError("series,time,x,x\n")
                == .invalidHeader(path: "data.csv", line: 1, reason: "the value column 'x' appears twice"))
    }

    @Test("error messages name the file, the line and the fix")
    func messages() throws {
        let error = try #require(parseError("series,time,x\na,0,1\na,1\n"))
        #expect(error.description == "'data.csv' line 3: 2 fields, expected 3 as in the header. Leave a missing value empty but keep its comma.")
        let value = try #require(parseError("series,time,x\na,0,?\n"))
        #expect(value.description.contains("line 2"))
        #expect(value.description.contains("column 'x'"))
    }
}
