/// The channel layout of a raster image.
public enum PixelFormat: Sendable, Hashable {
    /// One 8-bit gray level per pixel.
    case gray
    /// Three 8-bit channels per pixel, red, green and blue, in that order.
    case rgb

    /// The bytes per pixel.
    public var channelCount: Int {
        switch self {
        case .gray: 1
        case .rgb: 3
        }
    }
}

/// An 8-bit image in memory, stored row by row from the top, written as PNG.
public struct RasterImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    /// `width × height × format.channelCount` bytes, rows from top to bottom, channels
    /// interleaved.
    public private(set) var pixels: [UInt8]

    /// Creates an image from its bytes.
    public init(width: Int, height: Int, format: PixelFormat, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "RasterImage: size must be positive, got \(width)×\(height)")
        precondition(
            pixels.count == width * height * format.channelCount,
            "RasterImage: a \(width)×\(height) \(format) image needs "
                + "\(width * height * format.channelCount) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.format = format
        self.pixels = pixels
    }

    /// Creates an image filled with one colour; a gray image takes the colour's luma.
    public init(width: Int, height: Int, format: PixelFormat, fill: RGBColor = .white) {
        precondition(width > 0 && height > 0, "RasterImage: size must be positive, got \(width)×\(height)")
        let pattern = format == .gray ? [fill.grayLevel] : [fill.red, fill.green, fill.blue]
        var pixels = [UInt8]()
        pixels.reserveCapacity(width * height * pattern.count)
        for _ in 0..<(width * height) { pixels.append(contentsOf: pattern) }
        self.init(width: width, height: height, format: format, pixels: pixels)
    }

    /// Creates a gray image from values in row-major order, mapping `range` linearly onto
    /// 0…255.
    ///
    /// `range` defaults to the minimum and maximum of the finite values. Values outside it
    /// are clamped, −∞ gives 0, +∞ gives 255 and NaN gives 0. When the range has zero width
    /// every finite value gives 0.
    ///
    /// - Parameter inverted: map the low end to white and the high end to black, for dark
    ///   ink on white paper.
    public init(
        grayscale values: [Double], width: Int, height: Int, range: ClosedRange<Double>? = nil,
        inverted: Bool = false
    ) {
        Self.checkGrid(values.count, width: width, height: height, caller: "RasterImage(grayscale:)")
        let normalizer = ValueNormalizer(values: values, range: range)
        let pixels = values.map { value -> UInt8 in
            let level = UInt8((normalizer.unitValue(value) * 255).rounded())
            return inverted ? 255 - level : level
        }
        self.init(width: width, height: height, format: .gray, pixels: pixels)
    }

    /// Creates a colour image of values in row-major order through a colour map, as for a
    /// density heatmap.
    ///
    /// `range` defaults to the minimum and maximum of the finite values. Values outside it
    /// are clamped to the ends of the map, −∞ gives the low end, +∞ the high end (so that a
    /// log-density of −∞ draws as zero density), and NaN gives `nanColor`. When the range
    /// has zero width every finite value gives the low end.
    public init(
        heatmap values: [Double], width: Int, height: Int, colorMap: ColorMap = .viridis,
        range: ClosedRange<Double>? = nil, nanColor: RGBColor = .white
    ) {
        Self.checkGrid(values.count, width: width, height: height, caller: "RasterImage(heatmap:)")
        let normalizer = ValueNormalizer(values: values, range: range)
        // A 256-entry table makes the per-pixel work one lookup.
        let table = (0...255).map { colorMap.color(at: Double($0) / 255) }
        var pixels = [UInt8]()
        pixels.reserveCapacity(values.count * 3)
        for value in values {
            let color = value.isNaN ? nanColor : table[Int((normalizer.unitValue(value) * 255).rounded())]
            pixels.append(color.red)
            pixels.append(color.green)
            pixels.append(color.blue)
        }
        self.init(width: width, height: height, format: .rgb, pixels: pixels)
    }

    private static func checkGrid(_ count: Int, width: Int, height: Int, caller: String) {
        precondition(width > 0 && height > 0, "\(caller): size must be positive, got \(width)×\(height)")
        precondition(
            count == width * height,
            "\(caller): a \(width)×\(height) grid needs \(width * height) values, got \(count)")
    }

    // MARK: - Pixels

    /// Returns the colour at column `x` and row `y`, with row 0 at the top. Gray pixels read
    /// as equal red, green and blue.
    public func color(x: Int, y: Int) -> RGBColor {
        checkPosition(x: x, y: y)
        let offset = (y * width + x) * format.channelCount
        switch format {
        case .gray:
            let level = pixels[offset]
            return RGBColor(red: level, green: level, blue: level)
        case .rgb:
            return RGBColor(red: pixels[offset], green: pixels[offset + 1], blue: pixels[offset + 2])
        }
    }

    /// Sets the pixel at column `x` and row `y`; a gray image stores the colour's luma.
    public mutating func setColor(_ color: RGBColor, x: Int, y: Int) {
        checkPosition(x: x, y: y)
        let offset = (y * width + x) * format.channelCount
        switch format {
        case .gray:
            pixels[offset] = color.grayLevel
        case .rgb:
            pixels[offset] = color.red
            pixels[offset + 1] = color.green
            pixels[offset + 2] = color.blue
        }
    }

    private func checkPosition(x: Int, y: Int) {
        precondition(
            x >= 0 && x < width && y >= 0 && y < height,
            "RasterImage: pixel (\(x), \(y)) is outside the \(width)×\(height) image")
    }

    /// Returns the image in `format`. Gray to RGB repeats the level, RGB to gray takes the luma.
    public func converted(to format: PixelFormat) -> RasterImage {
        if format == self.format { return self }
        switch format {
        case .rgb:
            var result = [UInt8]()
            result.reserveCapacity(pixels.count * 3)
            for level in pixels { result.append(contentsOf: [level, level, level]) }
            return RasterImage(width: width, height: height, format: .rgb, pixels: result)
        case .gray:
            var result = [UInt8]()
            result.reserveCapacity(width * height)
            for i in stride(from: 0, to: pixels.count, by: 3) {
                result.append(RGBColor(red: pixels[i], green: pixels[i + 1], blue: pixels[i + 2]).grayLevel)
            }
            return RasterImage(width: width, height: height, format: .gray, pixels: result)
        }
    }

    /// Returns the image enlarged `factor` times by repeating pixels, so that a 28×28 digit
    /// or a 64×64 density stays sharp when viewed large.
    public func upscaled(by factor: Int) -> RasterImage {
        precondition(factor >= 1, "RasterImage.upscaled(by:): factor must be at least 1, got \(factor)")
        if factor == 1 { return self }
        let channels = format.channelCount
        let newWidth = width * factor
        var result = [UInt8]()
        result.reserveCapacity(pixels.count * factor * factor)
        for y in 0..<height {
            var row = [UInt8]()
            row.reserveCapacity(newWidth * channels)
            for x in 0..<width {
                let offset = (y * width + x) * channels
                for _ in 0..<factor { row.append(contentsOf: pixels[offset..<(offset + channels)]) }
            }
            for _ in 0..<factor { result.append(contentsOf: row) }
        }
        return RasterImage(width: newWidth, height: height * factor, format: format, pixels: result)
    }

    /// Copies `image` with its top-left corner at `(x, y)`, cutting off what falls outside.
    ///
    /// - Precondition: both images have the same format.
    public mutating func draw(_ image: RasterImage, x: Int, y: Int) {
        precondition(
            image.format == format,
            "RasterImage.draw: cannot draw a \(image.format) image onto a \(format) image. Convert it first with converted(to:)")
        let channels = format.channelCount
        let firstColumn = max(0, -x)
        let lastColumn = min(image.width, width - x)
        guard firstColumn < lastColumn else { return }
        for row in max(0, -y)..<min(image.height, height - y) {
            let source = (row * image.width + firstColumn) * channels
            let target = ((y + row) * width + x + firstColumn) * channels
            let count = (lastColumn - firstColumn) * channels
            pixels.replaceSubrange(target..<(target + count), with: image.pixels[source..<(source + count)])
        }
    }
}

/// Maps values linearly from a range onto [0, 1], with the rules of `RasterImage`'s
/// value initialisers for non-finite values.
struct ValueNormalizer {
    let lower: Double
    let upper: Double

    init(values: [Double], range: ClosedRange<Double>?) {
        if let range {
            precondition(
                range.lowerBound.isFinite && range.upperBound.isFinite,
                "RasterImage: the value range must be finite, got \(range)")
            lower = range.lowerBound
            upper = range.upperBound
        } else {
            let finite = values.lazy.filter(\.isFinite)
            lower = finite.min() ?? 0
            upper = finite.max() ?? 0
        }
    }

    func unitValue(_ value: Double) -> Double {
        if value.isNaN { return 0 }
        if value == .infinity { return 1 }
        if value == -.infinity { return 0 }
        guard upper > lower else { return 0 }
        return min(1, max(0, (value - lower) / (upper - lower)))
    }
}
