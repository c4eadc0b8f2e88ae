/// Text and number formatting for SVG output.
enum SVGText {
    /// `text` with the five XML special characters replaced by entities and the control
    /// characters that XML 1.0 forbids replaced by spaces, for element text and attributes.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    result += " "
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    /// Formats a pixel coordinate with at most two decimals and no trailing zeros.
    ///
    /// Coordinates are clamped to ±10⁶ pixels, far outside any page, so that a point far
    /// beyond fixed axis limits still gives a valid path (the clip path hides it). NaN, which
    /// the layout never produces, writes as 0 to keep the document valid.
    static func number(_ value: Double) -> String {
        let clamped = value.isNaN ? 0 : min(1e6, max(-1e6, value))
        let hundredths = Int((clamped * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let magnitude = hundredths.magnitude
        let whole = magnitude / 100
        let fraction = magnitude % 100
        if fraction == 0 { return sign + String(whole) }
        if fraction % 10 == 0 { return sign + String(whole) + "." + String(fraction / 10) }
        return sign + String(whole) + (fraction < 10 ? ".0" : ".") + String(fraction)
    }

    /// Estimates the width in pixels of `text` in a sans-serif font of `fontSize`, for
    /// layout, because SVG has no text metrics before rendering.
    static func estimatedWidth(_ text: String, fontSize: Double) -> Double {
        Double(text.count) * fontSize * 0.6
    }
}

/// An SVG document under construction.
struct SVGBuilder {
    private(set) var text = ""

    mutating func append(_ line: String) {
        text += line
        text += "\n"
    }

    /// Appends `<name attributes>content</name>`, escaping the content.
    mutating func element(_ name: String, _ attributes: [(String, String)], content: String? = nil) {
        var line = "<" + name
        for (key, value) in attributes {
            line += " \(key)=\"\(SVGText.escaped(value))\""
        }
        if let content {
            line += ">" + SVGText.escaped(content) + "</" + name + ">"
        } else {
            line += "/>"
        }
        append(line)
    }

    mutating func open(_ name: String, _ attributes: [(String, String)]) {
        var line = "<" + name
        for (key, value) in attributes {
            line += " \(key)=\"\(SVGText.escaped(value))\""
        }
        append(line + ">")
    }

    mutating func close(_ name: String) {
        append("</\(name)>")
    }
}
