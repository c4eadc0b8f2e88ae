/// An error from reading a dataset file.
///
/// Every case names the file or folder and states what is wrong with it, and its
/// description ends with what to do about it.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    /// None of the accepted names of an MNIST file exists in `directory`.
    case mnistFileNotFound(directory: String, candidates: [String], directoryExists: Bool)
    /// The file could not be opened or read.
    case unreadableFile(path: String, reason: String)
    /// The file starts like gzip but its compressed stream is damaged or incomplete.
    case invalidGzip(path: String, reason: String)
    /// The (decompressed) content is not a well-formed IDX file of unsigned bytes.
    case invalidIDX(path: String, reason: String)
    /// The IDX file is well-formed but its dimensions are not the expected ones.
    case unexpectedShape(path: String, dimensions: [Int], expected: String)
    /// A label byte is outside the classes of the dataset.
    case invalidLabel(path: String, index: Int, value: Int, validRange: ClosedRange<Int>)
    /// The image and label files hold different numbers of examples.
    case countMismatch(imagesPath: String, imageCount: Int, labelsPath: String, labelCount: Int)

    public var description: String {
        switch self {
        case let .mnistFileNotFound(directory, candidates, directoryExists):
            let looked = candidates.map { "'\($0)'" }.joined(separator: ", ")
            let folder = directoryExists ? "in '\(directory)'" : "because the folder '\(directory)' does not exist"
            return "MNIST file not found \(folder): looked for \(looked). Expected the four MNIST files "
                + "in that folder: train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                + "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each either gzip-compressed "
                + "(.gz, as published by LeCun et al.) or not."
        case let .unreadableFile(path, reason):
            return "Cannot read '\(path)': \(reason). Check that the path is right and the file is readable."
        case let .invalidGzip(path, reason):
            return "'\(path)' is not a valid gzip file: \(reason). The file is damaged or incomplete. "
                + "Download it again."
        case let .invalidIDX(path, reason):
            return "'\(path)' is not a valid IDX file: \(reason). The file is damaged, incomplete or "
                + "of another kind. Download it again."
        case let .unexpectedShape(path, dimensions, expected):
            let shape = dimensions.map(String.init).joined(separator: " × ")
            return "'\(path)' holds an array of shape \(shape), expected \(expected). Check that the "
                + "file is the right one of the dataset."
        case let .invalidLabel(path, index, value, validRange):
            return "'\(path)' has label \(value) at index \(index), outside \(validRange.lowerBound)..."
                + "\(validRange.upperBound). The file is damaged or not a label file. Download it again."
        case let .countMismatch(imagesPath, imageCount, labelsPath, labelCount):
            return "'\(imagesPath)' holds \(imageCount) images but '\(labelsPath)' holds \(labelCount) "
                + "labels. The two files come from different splits or one is damaged. Download both again."
        }
    }
}
