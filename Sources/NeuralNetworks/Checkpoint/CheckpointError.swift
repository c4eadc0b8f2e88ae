/// A checkpoint file that could not be written, read or matched to a model, with the file's
/// path and the problem found.
public struct CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file that was being read or written.
    public let path: String
    public let problem: Problem

    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    /// A defect of the file, or a mismatch between the file and the model or optimizer.
    public enum Problem: Equatable, Sendable {
        /// The file could not be opened or read; `reason` is the system's message.
        case unreadable(reason: String)
        /// The file could not be written or renamed into place.
        case writeFailed(reason: String)
        /// The file ends before the 8-byte header length.
        case fileTooShort(byteCount: Int)
        /// The header length points past the end of the file, or above the size limit.
        case headerLengthOutOfRange(headerLength: UInt64, fileSize: Int, limit: Int)
        /// The header is not valid JSON; `offset` counts bytes from the start of the header.
        case invalidJSON(offset: Int, reason: String)
        /// The header is JSON but not a valid safetensors header.
        case invalidHeader(reason: String)
        /// A tensor has a dtype other than F32 and F64.
        case unsupportedDType(tensor: String, dtype: String)
        /// A tensor's `data_offsets` lie outside the data section or are reversed.
        case dataOffsetsOutOfRange(tensor: String, begin: Int, end: Int, dataLength: Int)
        /// A tensor's byte range does not match its dtype and shape.
        case dataSizeMismatch(tensor: String, shape: [Int], dtype: String, byteCount: Int)
        /// A tensor's data does not start where the previous tensor's data ends (in offset
        /// order): the ranges overlap or leave a gap.
        case dataOffsetsNotContiguous(tensor: String, begin: Int, expectedBegin: Int)
        /// The tensors' data ends before the end of the file.
        case dataNotCovered(coveredBytes: Int, dataLength: Int)
        /// The model or optimizer needs a tensor that the file lacks.
        case missingTensor(name: String)
        /// The file has a tensor that the model and optimizer do not have.
        case unexpectedTensor(name: String)
        case shapeMismatch(tensor: String, expected: [Int], found: [Int])
        case dtypeMismatch(tensor: String, expected: String, found: String)
        /// A metadata entry is missing or cannot be parsed.
        case invalidMetadata(key: String, reason: String)
        /// The file contains the state of another optimizer algorithm.
        case optimizerMismatch(expected: String, found: String)
    }

    public var description: String {
        "Checkpoint \(path): \(problemDescription)"
    }

    private var problemDescription: String {
        switch problem {
        case .unreadable(let reason):
            return "cannot be read (\(reason))."
        case .writeFailed(let reason):
            return "cannot be written (\(reason)). Check that the folder exists and is writable."
        case .fileTooShort(let byteCount):
            return "the file is \(byteCount) bytes long, shorter than the 8-byte header length; it is truncated or not a safetensors file."
        case .headerLengthOutOfRange(let headerLength, let fileSize, let limit):
            return "the header length \(headerLength) exceeds the \(fileSize - 8) bytes after the length field "
                + "or the \(limit)-byte limit; the file is truncated or not a safetensors file."
        case .invalidJSON(let offset, let reason):
            return "the header is not valid JSON at byte \(offset) of the header: \(reason)."
        case .invalidHeader(let reason):
            return "invalid safetensors header: \(reason)."
        case .unsupportedDType(let tensor, let dtype):
            return "tensor '\(tensor)' has dtype \(dtype); only F32 and F64 are supported."
        case .dataOffsetsOutOfRange(let tensor, let begin, let end, let dataLength):
            return "tensor '\(tensor)' has data_offsets [\(begin), \(end)] outside the \(dataLength) bytes of data; the file is truncated or corrupted."
        case .dataSizeMismatch(let tensor, let shape, let dtype, let byteCount):
            return "tensor '\(tensor)' of shape \(shape) and dtype \(dtype) has \(byteCount) bytes of data, which does not match."
        case .dataOffsetsNotContiguous(let tensor, let begin, let expectedBegin):
            return "tensor '\(tensor)' starts at data offset \(begin), expected \(expectedBegin); tensor data overlaps or leaves a gap."
        case .dataNotCovered(let coveredBytes, let dataLength):
            return "the tensors cover \(coveredBytes) of the \(dataLength) bytes of data; the file has trailing bytes or is corrupted."
        case .missingTensor(let name):
            return "tensor '\(name)' is missing; the file was saved from a different model or optimizer."
        case .unexpectedTensor(let name):
            return "tensor '\(name)' is not in the model or optimizer; the file was saved from a different model or optimizer."
        case .shapeMismatch(let tensor, let expected, let found):
            return "tensor '\(tensor)' has shape \(found), but the model expects \(expected)."
        case .dtypeMismatch(let tensor, let expected, let found):
            return "tensor '\(tensor)' has dtype \(found), but the model expects \(expected); load it into a model of the matching scalar type."
        case .invalidMetadata(let key, let reason):
            return "metadata '\(key)' \(reason)."
        case .optimizerMismatch(let expected, let found):
            return "the file holds \(found) optimizer state, but the optimizer is \(expected)."
        }
    }
}
