import CPNG
import Plotting

/// An error from decoding a PNG file in the tests.
struct PNGDecodingError: Error, CustomStringConvertible {
    var description: String
}

/// Reads a PNG file with libpng's simplified read API, keeping its own pixel format.
func decodePNG(file path: String) throws -> RasterImage {
    var image = png_image()
    image.version = png_uint_32(PNG_IMAGE_VERSION)
    guard png_image_begin_read_from_file(&image, path) != 0 else {
        throw PNGDecodingError(description: "cannot read \(path): \(message(of: image))")
    }
    return try finishRead(&image, name: path)
}

/// Decodes PNG bytes with libpng's simplified read API, keeping their pixel format.
func decodePNG(bytes: [UInt8]) throws -> RasterImage {
    var image = png_image()
    image.version = png_uint_32(PNG_IMAGE_VERSION)
    let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
    guard begun != 0 else {
        throw PNGDecodingError(description: "cannot decode PNG bytes: \(message(of: image))")
    }
    return try finishRead(&image, name: "PNG bytes")
}

private func finishRead(_ image: inout png_image, name: String) throws -> RasterImage {
    let format: PixelFormat
    switch image.format {
    case 0: format = .gray
    case png_uint_32(PNG_FORMAT_FLAG_COLOR): format = .rgb
    default:
        png_image_free(&image)
        throw PNGDecodingError(description: "\(name) has libpng format \(image.format), not gray or RGB")
    }
    let width = Int(image.width)
    let height = Int(image.height)
    var pixels = [UInt8](repeating: 0, count: width * height * format.channelCount)
    let finished = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
    guard finished != 0 else {
        throw PNGDecodingError(description: "cannot decode \(name): \(message(of: image))")
    }
    return RasterImage(width: width, height: height, format: format, pixels: pixels)
}

private func message(of image: png_image) -> String {
    withUnsafeBytes(of: image.message) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
}
