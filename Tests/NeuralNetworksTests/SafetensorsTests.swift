import Foundation
import NeuralNetworks
import TensorEngine
import Testing

/// Returns the bytes of a safetensors file with the given header text (unpadded) and data.
func safetensorsBytes(header: String, data: [UInt8] = []) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { bytes.append(contentsOf: $0) }
    return bytes + headerBytes + data
}

/// Returns the problem that decoding `bytes` reports, or nil when decoding succeeds.
func decodingProblem(_ bytes: [UInt8]) -> CheckpointError.Problem? {
    do {
        _ = try SafetensorsFile.decode(bytes, path: "test.safetensors")
        return nil
    } catch {
        return error.problem
    }
}

/// Returns a small file with F32 and F64 tensors and metadata, for corruption tests.
func sampleFile() -> SafetensorsFile {
    SafetensorsFile(
        tensors: [
            "weight": SafetensorsTensor(Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])),
            "bias": SafetensorsTensor(Tensor<Float>([0.5, -0.5, 0.25])),
            "scale": SafetensorsTensor(Tensor<Double>(3)),
        ],
        metadata: ["epoch": "7"])
}

@Suite("Safetensors format")
struct SafetensorsTests {
    @Test("encoding writes the length, sorted padded JSON, then little-endian data")
    func exactLayout() {
        let file = SafetensorsFile(
            tensors: ["b": SafetensorsTensor(Tensor<Float>([1, -2])), "a": SafetensorsTensor(Tensor<Double>(0.5))],
            metadata: ["k": "v"])
        let bytes = file.encoded()
        let json = #"{"__metadata__":{"k":"v"},"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"#
            + #""b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#
        let padding = (8 - json.utf8.count % 8) % 8
        let header = json + String(repeating: " ", count: padding)
        #expect(Array(bytes[0..<8]) == withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) })
        #expect(String(decoding: bytes[8..<(8 + header.utf8.count)], as: UTF8.self) == header)
        #expect((8 + header.utf8.count) % 8 == 0)
        // 0.5 as F64, then 1 and −2 as F32, all little-endian.
        #expect(
            Array(bytes[(8 + header.utf8.count)...])
                == [0, 0, 0, 0, 0, 0, 0xE0, 0x3F, 0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])
    }

    @Test("decoding accepts other writers' key order and whitespace")
    func foreignHeader() throws {
        let header = #"{ "x" : {"shape": [2], "data_offsets": [0, 8], "dtype": "F32"},"#
            + #" "__metadata__": {"format": "pt"} }"#
        var data: [UInt8] = []
        for value: Float in [3, 4] { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        let file = try SafetensorsFile.decode(safetensorsBytes(header: header, data: data), path: "x")
        #expect(file.metadata == ["format": "pt"])
        #expect(try #require(file.tensors["x"]).tensor(as: Float.self)?.scalars == [3, 4])
        #expect(try #require(file.tensors["x"]).tensor(as: Double.self) == nil)
    }

    @Test("a file round-trips through encode and decode")
    func roundTrip() throws {
        var file = sampleFile()
        file.tensors["empty"] = SafetensorsTensor(Tensor<Double>(zeros: [0, 3]))
        file.tensors["name with \"quotes\" and ü"] = SafetensorsTensor(Tensor<Float>([7]))
        file.metadata["note"] = "line\nbreak\ttab \u{1}"
        let decoded = try SafetensorsFile.decode(file.encoded(), path: "x")
        #expect(decoded == file)
    }

    @Test("truncation at any length is rejected with the matching error")
    func truncation() throws {
        let bytes = sampleFile().encoded()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        for length in 0..<bytes.count {
            let problem = try #require(decodingProblem(Array(bytes[..<length])), "length \(length)")
            switch problem {
            case .fileTooShort(let byteCount):
                #expect(length < 8 && byteCount == length)
            case .headerLengthOutOfRange(let declared, let fileSize, _):
                #expect(length >= 8 && length < 8 + headerLength, "length \(length)")
                #expect(declared == UInt64(headerLength) && fileSize == length)
            case .dataOffsetsOutOfRange, .dataNotCovered:
                #expect(length >= 8 + headerLength, "length \(length)")
            default:
                Issue.record("length \(length): unexpected problem \(problem)")
            }
        }
        #expect(decodingProblem(bytes) == nil)
    }

    @Test("inverting any header byte is rejected")
    func headerByteInversion() {
        let bytes = sampleFile().encoded()
        let headerEnd = 8 + (Int(bytes[0]) | Int(bytes[1]) << 8)
        for position in 0..<headerEnd {
            var corrupted = bytes
            corrupted[position] ^= 0xFF
            #expect(decodingProblem(corrupted) != nil, "byte \(position)")
        }
    }

    @Test("flipping one bit anywhere never crashes the reader")
    func singleBitFlips() throws {
        let original = sampleFile()
        let bytes = original.encoded()
        let dataStart = 8 + (Int(bytes[0]) | Int(bytes[1]) << 8)
        for position in 0..<bytes.count {
            for bit in 0..<8 {
                var corrupted = bytes
                corrupted[position] ^= 1 << bit
                let problem = decodingProblem(corrupted)
                if position < 8 {
                    // Any other header length cuts the JSON or leaves data bytes uncovered.
                    #expect(problem != nil, "length byte \(position), bit \(bit)")
                } else if position >= dataStart {
                    // The data section has no checksum: the file stays valid, with one value changed.
                    let decoded = try SafetensorsFile.decode(corrupted, path: "x")
                    let changed = decoded.tensors.filter { original.tensors[$0.key] != $0.value }
                    #expect(changed.count == 1, "data byte \(position), bit \(bit)")
                }
                // A flip inside the JSON may give another valid header, such as a renamed tensor
                // or a changed metadata value. Reaching this point without a crash is the check.
            }
        }
    }

    @Test("a huge header length is rejected")
    func hugeHeaderLength() {
        var bytes = sampleFile().encoded()
        for length: UInt64 in [UInt64.max, 1 << 62, 100_000_001, UInt64(bytes.count)] {
            withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            guard case .headerLengthOutOfRange(let declared, _, let limit) = decodingProblem(bytes) else {
                Issue.record("header length \(length) was not rejected as out of range")
                continue
            }
            #expect(declared == length)
            #expect(limit == 100_000_000)
        }
    }

    @Test("offsets past the end of the data are rejected")
    func offsetsPastEnd() {
        let bytes = safetensorsBytes(
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: Array(repeating: 0, count: 8))
        #expect(decodingProblem(bytes) == .dataOffsetsOutOfRange(tensor: "a", begin: 4, end: 12, dataLength: 8))
        let reversed = safetensorsBytes(
            header: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"#, data: Array(repeating: 0, count: 8))
        #expect(decodingProblem(reversed) == .dataOffsetsOutOfRange(tensor: "a", begin: 8, end: 4, dataLength: 8))
    }

    @Test("overlapping offsets, gaps and uncovered bytes are rejected")
    func offsetTiling() {
        let overlap = safetensorsBytes(
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            data: Array(repeating: 0, count: 12))
        #expect(decodingProblem(overlap) == .dataOffsetsNotContiguous(tensor: "b", begin: 4, expectedBegin: 8))
        let gap = safetensorsBytes(
            header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8))
        #expect(decodingProblem(gap) == .dataOffsetsNotContiguous(tensor: "a", begin: 4, expectedBegin: 0))
        let trailing = safetensorsBytes(
            header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: Array(repeating: 0, count: 8))
        #expect(decodingProblem(trailing) == .dataNotCovered(coveredBytes: 4, dataLength: 8))
    }

    @Test("sizes that disagree with dtype and shape are rejected")
    func sizeMismatch() {
        let bytes = safetensorsBytes(
            header: #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))
        #expect(decodingProblem(bytes) == .dataSizeMismatch(tensor: "a", shape: [2], dtype: "F64", byteCount: 8))
        // A shape whose byte count overflows Int cannot match any range.
        let overflow = safetensorsBytes(
            header: #"{"a":{"dtype":"F32","shape":[4611686018427387904,4,0],"data_offsets":[0,0]}}"#)
        #expect(
            decodingProblem(overflow)
                == .dataSizeMismatch(tensor: "a", shape: [4_611_686_018_427_387_904, 4, 0], dtype: "F32", byteCount: 0))
    }

    @Test("malformed headers are rejected with the reason", arguments: [
        (#"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, "unsupportedDType"),
        (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, "invalidHeader"),
        (#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, "invalidHeader"),
        (#"{"a":{"dtype":"F32","shape":[1]}}"#, "invalidHeader"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, "invalidHeader"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, "invalidHeader"),
        (#"{"__metadata__":{"epoch":7}}"#, "invalidHeader"),
        (#"{"__metadata__":"text"}"#, "invalidHeader"),
        (#"[1, 2]"#, "invalidHeader"),
        (#"{"a":[]}"#, "invalidHeader"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#, "invalidJSON"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x"#, "invalidJSON"),
        (#"{'a': 1}"#, "invalidJSON"),
        (#"{"a\q":1}"#, "invalidJSON"),
        (#"{"\ud800":1}"#, "invalidJSON"),
        (#"{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}"#, "invalidJSON"),
        ("", "invalidJSON"),
    ])
    func malformedHeaders(header: String, expected: String) {
        let problem = decodingProblem(safetensorsBytes(header: header, data: Array(repeating: 0, count: 8)))
        let kind = problem.map { String(describing: $0).prefix { $0 != "(" } }
        #expect(kind.map(String.init) == expected, "\(String(describing: problem))")
    }

    @Test("deeply nested JSON is rejected without exhausting the stack")
    func deepNesting() {
        let header = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        guard case .invalidJSON(_, let reason) = decodingProblem(safetensorsBytes(header: header)) else {
            Issue.record("deep nesting was not rejected as invalid JSON")
            return
        }
        #expect(reason.contains("nesting"))
    }

    @Test("invalid UTF-8 in a name is rejected")
    func invalidUTF8() {
        var bytes = safetensorsBytes(header: #"{"ab":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}"#)
        let position = bytes.firstIndex(of: UInt8(ascii: "b"))!
        bytes[position] = 0xC3
        guard case .invalidJSON(_, let reason) = decodingProblem(bytes) else {
            Issue.record("invalid UTF-8 was not rejected")
            return
        }
        #expect(reason.contains("UTF-8"))
    }

    @Test("error messages name the file and the problem")
    func errorDescription() {
        let error = CheckpointError(
            path: "/runs/a.safetensors",
            problem: .shapeMismatch(tensor: "0.weight", expected: [2, 3], found: [3, 2]))
        #expect(
            error.description
                == "Checkpoint /runs/a.safetensors: tensor '0.weight' has shape [3, 2], but the model expects [2, 3].")
    }
}
