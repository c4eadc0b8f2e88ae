import TensorEngine

/// The element types this library reads and writes in safetensors files.
public enum SafetensorsDType: String, Sendable, Equatable {
    case float32 = "F32"
    case float64 = "F64"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .float32: 4
        case .float64: 8
        }
    }

    /// Returns the dtype that stores `Scalar`.
    public static func of<Scalar: TensorScalar>(_: Scalar.Type) -> SafetensorsDType {
        guard let dtype = SafetensorsDType(rawValue: Scalar.safetensorsName) else {
            preconditionFailure("SafetensorsDType: no dtype for \(Scalar.self) (\(Scalar.safetensorsName))")
        }
        return dtype
    }
}

/// One tensor of a safetensors file: dtype, shape and little-endian row-major values.
public struct SafetensorsTensor: Sendable, Equatable {
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// The values as little-endian bytes, `dtype.byteCount` per element.
    public let data: [UInt8]

    /// Copies the values of `tensor`.
    public init<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) {
        dtype = .of(Scalar.self)
        shape = tensor.shape
        data = tensor.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }
    }

    init(dtype: SafetensorsDType, shape: [Int], data: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// Returns the values as a new tensor, or nil when `Scalar` does not match `dtype`.
    public func tensor<Scalar: TensorScalar>(as _: Scalar.Type) -> Tensor<Scalar>? {
        guard dtype == .of(Scalar.self) else { return nil }
        return Tensor<Scalar>(shape: shape) { values in copyValues(into: values) }
    }

    /// Overwrites the values of `tensor` in place.
    ///
    /// - Precondition: `tensor` has this shape and a scalar type of this dtype.
    func copyValues<Scalar: TensorScalar>(into values: UnsafeMutableBufferPointer<Scalar>) {
        precondition(
            values.count * MemoryLayout<Scalar>.stride == data.count,
            "SafetensorsTensor: \(data.count) bytes do not fill \(values.count) values of \(Scalar.self)")
        data.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(values).copyMemory(from: source)
        }
    }
}

#if _endian(big)
#error("Safetensors data is little-endian; this code copies values without byte swapping.")
#endif

/// The contents of a safetensors file: named tensors and a string-to-string metadata map.
///
/// The format (Hugging Face safetensors): an 8-byte little-endian unsigned header length
/// `N`, then `N` bytes of UTF-8 JSON that map each tensor name to
/// `{"dtype": …, "shape": […], "data_offsets": [begin, end]}` and the optional key
/// `"__metadata__"` to an object of strings, then the data section. Offsets count bytes from
/// the start of the data section, and the tensors' byte ranges tile it exactly.
///
/// `encoded()` writes the keys in sorted order and pads the header with spaces to a
/// multiple of 8 bytes, as the reference implementation does. `decode` checks every length
/// and offset against the file size before it reads any data. It rejects what the reference
/// implementation rejects: a header past the end of the file or over 100 MB, invalid JSON,
/// overlapping or out-of-range offsets, sizes that disagree with dtype and shape, and bytes
/// that no tensor covers.
public struct SafetensorsFile: Equatable, Sendable {
    public var tensors: [String: SafetensorsTensor]
    public var metadata: [String: String]

    /// Header size limit, the one in the reference Rust implementation (100,000,000 bytes).
    public static let maximumHeaderLength = 100_000_000

    public init(tensors: [String: SafetensorsTensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Reads and validates the file at `path`.
    public static func read(from path: String) throws(CheckpointError) -> SafetensorsFile {
        try decode(FileIO.contents(ofFile: path), path: path)
    }

    /// Writes the file atomically: to a temporary file in the same folder, then renamed over
    /// `path`.
    public func write(to path: String) throws(CheckpointError) {
        try FileIO.writeAtomically(encoded(), to: path)
    }

    // MARK: - Encoding

    /// Returns the file's bytes.
    public func encoded() -> [UInt8] {
        // Data in order of decreasing element size, then name, keeps every tensor aligned
        // to its element size.
        let dataOrder = tensors.keys.sorted { lhs, rhs in
            let (a, b) = (tensors[lhs]!.dtype.byteCount, tensors[rhs]!.dtype.byteCount)
            return a != b ? a > b : lhs < rhs
        }
        var offsets: [String: (Int, Int)] = [:]
        var dataLength = 0
        for name in dataOrder {
            let count = tensors[name]!.data.count
            offsets[name] = (dataLength, dataLength + count)
            dataLength += count
        }

        var members: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            let entries = metadata.keys.sorted().map { (key: $0, value: JSONValue.string(metadata[$0]!)) }
            members.append(("__metadata__", .object(entries)))
        }
        for (name, tensor) in tensors {
            let (begin, end) = offsets[name]!
            members.append(
                (
                    name,
                    .object([
                        ("dtype", .string(tensor.dtype.rawValue)),
                        ("shape", .array(tensor.shape.map { .integer($0) })),
                        ("data_offsets", .array([.integer(begin), .integer(end)])),
                    ])
                ))
        }
        members.sort { $0.key < $1.key }

        var header = Array(JSONValue.object(members).serialized.utf8)
        // Pad with spaces so that the data section starts at a multiple of 8 bytes.
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + dataLength)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        for name in dataOrder { bytes.append(contentsOf: tensors[name]!.data) }
        return bytes
    }

    // MARK: - Decoding

    /// Parses and validates the bytes of a safetensors file; `path` names the file in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws(CheckpointError) -> SafetensorsFile {
        func failure(_ problem: CheckpointError.Problem) -> CheckpointError {
            CheckpointError(path: path, problem: problem)
        }

        guard bytes.count >= 8 else { throw failure(.fileTooShort(byteCount: bytes.count)) }
        var headerLength: UInt64 = 0
        for position in (0..<8).reversed() { headerLength = headerLength << 8 | UInt64(bytes[position]) }
        guard headerLength <= UInt64(min(maximumHeaderLength, bytes.count - 8)) else {
            throw failure(
                .headerLengthOutOfRange(headerLength: headerLength, fileSize: bytes.count, limit: maximumHeaderLength))
        }
        let dataStart = 8 + Int(headerLength)
        let dataLength = bytes.count - dataStart

        let header: JSONValue
        do {
            header = try JSONParser.parse(bytes[8..<dataStart])
        } catch {
            throw failure(.invalidJSON(offset: error.offset, reason: error.reason))
        }
        guard case .object(let members) = header else {
            throw failure(.invalidHeader(reason: "the header is \(header.kindName), not a JSON object"))
        }

        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: SafetensorsDType, shape: [Int], begin: Int, end: Int)] = []
        var seen = Set<String>()
        for (name, value) in members {
            guard seen.insert(name).inserted else {
                throw failure(.invalidHeader(reason: "the name '\(name)' appears twice"))
            }
            if name == "__metadata__" {
                metadata = try decodeMetadata(value, failure: failure)
            } else {
                let entry = try decodeEntry(name: name, value, dataLength: dataLength, failure: failure)
                entries.append(entry)
            }
        }

        // The byte ranges, in offset order, must tile the data section without gaps or overlaps.
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var covered = 0
        for entry in entries {
            guard entry.begin == covered else {
                throw failure(.dataOffsetsNotContiguous(tensor: entry.name, begin: entry.begin, expectedBegin: covered))
            }
            covered = entry.end
        }
        guard covered == dataLength else {
            throw failure(.dataNotCovered(coveredBytes: covered, dataLength: dataLength))
        }

        var tensors: [String: SafetensorsTensor] = [:]
        for entry in entries {
            let data = Array(bytes[(dataStart + entry.begin)..<(dataStart + entry.end)])
            tensors[entry.name] = SafetensorsTensor(dtype: entry.dtype, shape: entry.shape, data: data)
        }
        return SafetensorsFile(tensors: tensors, metadata: metadata)
    }

    private static func decodeMetadata(
        _ value: JSONValue, failure: (CheckpointError.Problem) -> CheckpointError
    ) throws(CheckpointError) -> [String: String] {
        guard case .object(let entries) = value else {
            throw failure(.invalidHeader(reason: "__metadata__ is \(value.kindName), not an object of strings"))
        }
        var metadata: [String: String] = [:]
        for (key, entry) in entries {
            guard case .string(let text) = entry else {
                throw failure(.invalidHeader(reason: "__metadata__ entry '\(key)' is \(entry.kindName), not a string"))
            }
            guard metadata.updateValue(text, forKey: key) == nil else {
                throw failure(.invalidHeader(reason: "__metadata__ entry '\(key)' appears twice"))
            }
        }
        return metadata
    }

    private static func decodeEntry(
        name: String, _ value: JSONValue, dataLength: Int,
        failure: (CheckpointError.Problem) -> CheckpointError
    ) throws(CheckpointError) -> (name: String, dtype: SafetensorsDType, shape: [Int], begin: Int, end: Int) {
        func invalid(_ reason: String) -> CheckpointError {
            failure(.invalidHeader(reason: "tensor '\(name)': \(reason)"))
        }
        guard case .object(let fields) = value else { throw invalid("the entry is \(value.kindName), not an object") }
        var dtypeName: String?
        var shape: [Int]?
        var offsets: [Int]?
        for (key, field) in fields {
            switch key {
            case "dtype":
                guard dtypeName == nil, case .string(let text) = field else {
                    throw invalid("'dtype' must appear once, as a string")
                }
                dtypeName = text
            case "shape":
                guard shape == nil, let sizes = nonNegativeIntegers(field) else {
                    throw invalid("'shape' must appear once, as an array of non-negative integers")
                }
                shape = sizes
            case "data_offsets":
                guard offsets == nil, let pair = nonNegativeIntegers(field), pair.count == 2 else {
                    throw invalid("'data_offsets' must appear once, as two non-negative integers")
                }
                offsets = pair
            default:
                throw invalid("unknown field '\(key)'")
            }
        }
        guard let dtypeName else { throw invalid("'dtype' is missing") }
        guard let shape else { throw invalid("'shape' is missing") }
        guard let offsets else { throw invalid("'data_offsets' is missing") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw failure(.unsupportedDType(tensor: name, dtype: dtypeName))
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end, end <= dataLength else {
            throw failure(.dataOffsetsOutOfRange(tensor: name, begin: begin, end: end, dataLength: dataLength))
        }
        // The element count can overflow for a corrupted shape; such a shape cannot match.
        var expectedBytes: Int? = dtype.byteCount
        for size in shape {
            guard let product = expectedBytes?.multipliedReportingOverflow(by: size), !product.overflow else {
                expectedBytes = nil
                break
            }
            expectedBytes = product.partialValue
        }
        guard expectedBytes == end - begin else {
            throw failure(.dataSizeMismatch(tensor: name, shape: shape, dtype: dtypeName, byteCount: end - begin))
        }
        return (name, dtype, shape, begin, end)
    }

    private static func nonNegativeIntegers(_ value: JSONValue) -> [Int]? {
        guard case .array(let elements) = value else { return nil }
        var result: [Int] = []
        for element in elements {
            guard case .integer(let integer) = element, integer >= 0 else { return nil }
            result.append(integer)
        }
        return result
    }
}
