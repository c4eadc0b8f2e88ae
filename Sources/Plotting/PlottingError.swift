/// An error from writing a picture.
public enum PlottingError: Error, Equatable, CustomStringConvertible {
    /// The file could not be created, written or renamed into place.
    case writeFailed(path: String, reason: String)
    /// libpng rejected the image; `path` is `nil` when encoding to memory.
    case pngEncodingFailed(path: String?, message: String)

    public var description: String {
        switch self {
        case let .writeFailed(path, reason):
            "Could not write '\(path)': \(reason). Check that the folder exists and is writable."
        case let .pngEncodingFailed(path?, message):
            "libpng could not encode '\(path)': \(message)."
        case let .pngEncodingFailed(nil, message):
            "libpng could not encode the image: \(message)."
        }
    }
}
