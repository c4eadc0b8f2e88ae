import CPNG

extension RasterImage {
    /// Encodes the image as PNG bytes (8-bit gray or RGB, no alpha).
    public func pngData() throws(PlottingError) -> [UInt8] {
        try encodePNG(path: nil)
    }

    /// Writes the image as a PNG file, replacing any file at `path` in one rename.
    ///
    /// - Throws: `PlottingError.pngEncodingFailed` with libpng's message when libpng rejects
    ///   the image (for example, a side longer than libpng's limit of 1,000,000 pixels),
    ///   and `PlottingError.writeFailed` when the file cannot be written. Both name `path`.
    public func writePNG(to path: String) throws(PlottingError) {
        let bytes = try encodePNG(path: path)
        try AtomicFile.write(bytes, to: path)
    }

    /// Encodes with libpng's simplified write API: one call to size the output, one to fill it.
    private func encodePNG(path: String?) throws(PlottingError) -> [UInt8] {
        let rowBytes = width * format.channelCount
        guard rowBytes <= Int(Int32.max), width <= Int(UInt32.max), height <= Int(UInt32.max) else {
            throw .pngEncodingFailed(path: path, message: "a row of \(rowBytes) bytes is too long for libpng")
        }
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        // PNG_FORMAT_GRAY is 0 and PNG_FORMAT_RGB is PNG_FORMAT_FLAG_COLOR, a macro of a
        // macro that Swift does not import.
        image.format = format == .gray ? 0 : png_uint_32(PNG_FORMAT_FLAG_COLOR)

        var size = 0
        let sized = pixels.withUnsafeBytes { source in
            png_image_write_to_memory(&image, nil, &size, 0, source.baseAddress, Int32(rowBytes), nil)
        }
        guard sized != 0 else {
            throw .pngEncodingFailed(path: path, message: Self.message(of: image))
        }

        var output = [UInt8](repeating: 0, count: size)
        let written = output.withUnsafeMutableBytes { target in
            pixels.withUnsafeBytes { source in
                png_image_write_to_memory(
                    &image, target.baseAddress, &size, 0, source.baseAddress, Int32(rowBytes), nil)
            }
        }
        guard written != 0 else {
            throw .pngEncodingFailed(path: path, message: Self.message(of: image))
        }
        output.removeLast(output.count - size)
        return output
    }

    /// Returns the NUL-terminated text in libpng's fixed 64-byte message field.
    private static func message(of image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "unknown error" : String(decoding: bytes, as: UTF8.self)
        }
    }
}
