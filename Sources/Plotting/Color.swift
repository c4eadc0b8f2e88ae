/// An opaque 8-bit sRGB colour.
public struct RGBColor: Hashable, Sendable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Creates a colour from a `0xRRGGBB` value.
    public init(hex: UInt32) {
        precondition(hex <= 0xFF_FFFF, "RGBColor(hex:): \(hex) is more than 0xFFFFFF")
        self.init(
            red: UInt8(truncatingIfNeeded: hex >> 16),
            green: UInt8(truncatingIfNeeded: hex >> 8),
            blue: UInt8(truncatingIfNeeded: hex))
    }

    /// The colour as `#rrggbb`, the form SVG attributes take.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = [UInt8(ascii: "#")]
        for component in [red, green, blue] {
            bytes.append(digits[Int(component >> 4)])
            bytes.append(digits[Int(component & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The luma (ITU-R BT.601 weights) rounded to a gray level.
    public var grayLevel: UInt8 {
        let luma = 0.299 * Double(red) + 0.587 * Double(green) + 0.114 * Double(blue)
        return UInt8(min(255, luma.rounded()))
    }

    public static let black = RGBColor(red: 0, green: 0, blue: 0)
    public static let white = RGBColor(red: 255, green: 255, blue: 255)
    public static let gray = RGBColor(red: 128, green: 128, blue: 128)
}

/// The fixed colour cycle for plot series.
///
/// The colours are the eight of Okabe and Ito, "Color Universal Design" (2008), which stay
/// distinguishable under the common forms of colour-vision deficiency. The order puts the
/// strongest contrasts on white first and the pale yellow last.
public enum Palette {
    /// The colours in the order series use them.
    public static let colors: [RGBColor] = [
        RGBColor(hex: 0x0072B2),  // blue
        RGBColor(hex: 0xD55E00),  // vermillion
        RGBColor(hex: 0x009E73),  // bluish green
        RGBColor(hex: 0xE69F00),  // orange
        RGBColor(hex: 0xCC79A7),  // reddish purple
        RGBColor(hex: 0x56B4E9),  // sky blue
        RGBColor(hex: 0x000000),  // black
        RGBColor(hex: 0xF0E442),  // yellow
    ]

    /// The colour of the series at `index`; the cycle repeats after eight series.
    public static func color(at index: Int) -> RGBColor {
        precondition(index >= 0, "Palette.color(at:): index must be non-negative, got \(index)")
        return colors[index % colors.count]
    }
}
