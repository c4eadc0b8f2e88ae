import Foundation

/// One axis tick: its position in data units and the text printed beside it.
public struct Tick: Hashable, Sendable {
    public var value: Double
    public var label: String

    public init(value: Double, label: String) {
        self.value = value
        self.label = label
    }
}

/// Tick positions with round values, by the 1-2-5 rule.
///
/// A linear axis gets ticks at the multiples of a step `m × 10^e` with `m` in {1, 2, 5}; the
/// step is the one whose tick count inside the range is closest to the requested count (ties
/// go to the larger step). A log10 axis gets ticks at powers of ten, every `k`-th decade when
/// the range spans many, and at 1, 2 and 5 times the powers of ten when it spans fewer than
/// three. Tick values are computed from integers (`k × m` then scaled by a power of ten), so
/// 0.3 comes out as 0.3 and not 0.30000000000000004.
public enum Ticks {
    /// Returns ticks for a linear axis covering `lower...upper`.
    ///
    /// A range of zero width gets a single tick at its value.
    ///
    /// - Precondition: both ends are finite, `lower <= upper` and `targetCount >= 1`.
    public static func linear(from lower: Double, to upper: Double, targetCount: Int = 5) -> [Tick] {
        precondition(
            lower.isFinite && upper.isFinite && lower <= upper,
            "Ticks.linear: the range must be finite and ordered, got \(lower)...\(upper)")
        precondition(targetCount >= 1, "Ticks.linear: targetCount must be at least 1, got \(targetCount)")
        guard lower < upper, let step = bestStep(from: lower, to: upper, targetCount: targetCount) else {
            return [Tick(value: lower, label: plainLabel(lower))]
        }

        let first = Int((lower / step.value - tolerance).rounded(.up))
        let last = Int((upper / step.value + tolerance).rounded(.down))
        let largest = max(abs(lower), abs(upper))
        let useScientific = largest >= 1e6 || step.exponent <= -5
        return (first...last).map { k in
            let mantissa = k * step.multiplier
            let label =
                useScientific
                ? scientificLabel(mantissa: mantissa, exponent: step.exponent)
                : decimalLabel(mantissa: mantissa, exponent: step.exponent)
            return Tick(value: decimalValue(mantissa: mantissa, exponent: step.exponent), label: label)
        }
    }

    /// Returns ticks for a log10 axis covering `lower...upper`.
    ///
    /// Labels are plain decimals when every tick lies in [0.001, 10000], and `10ⁿ` or `2×10ⁿ`
    /// otherwise. When no 1-2-5 value falls in a narrow range (such as 2.1...4.9), the ticks
    /// are those of a linear axis over the same range.
    ///
    /// - Precondition: `0 < lower <= upper`, both finite, and `targetCount >= 1`.
    public static func logarithmic(from lower: Double, to upper: Double, targetCount: Int = 5) -> [Tick] {
        precondition(
            lower > 0 && upper.isFinite && lower <= upper,
            "Ticks.logarithmic: the range must be positive, finite and ordered, got \(lower)...\(upper)")
        precondition(targetCount >= 1, "Ticks.logarithmic: targetCount must be at least 1, got \(targetCount)")
        let lowerExponent = Int((log10(lower) - tolerance).rounded(.up))
        let upperExponent = Int((log10(upper) + tolerance).rounded(.down))
        let decadeCount = upperExponent - lowerExponent + 1

        // Mantissa and exponent pairs of the tick values.
        var candidates: [(mantissa: Int, exponent: Int)] = []
        if decadeCount >= 3 {
            let stride = max(1, Int((Double(decadeCount - 1) / Double(targetCount)).rounded(.up)))
            let start = Int((Double(lowerExponent) / Double(stride)).rounded(.up)) * stride
            for exponent in Swift.stride(from: start, through: upperExponent, by: stride) {
                candidates.append((1, exponent))
            }
        } else {
            for exponent in (lowerExponent - 1)...(upperExponent) {
                for multiplier in [1, 2, 5] {
                    let value = decimalValue(mantissa: multiplier, exponent: exponent)
                    if value >= lower * (1 - tolerance) && value <= upper * (1 + tolerance) {
                        candidates.append((multiplier, exponent))
                    }
                }
            }
        }
        if candidates.count < 2 && lower < upper {
            return linear(from: lower, to: upper, targetCount: targetCount)
        }

        let values = candidates.map { decimalValue(mantissa: $0.mantissa, exponent: $0.exponent) }
        let plain = values.allSatisfy { $0 >= 1e-3 && $0 <= 1e4 }
        return zip(candidates, values).map { candidate, value in
            let label =
                plain
                ? decimalLabel(mantissa: candidate.mantissa, exponent: candidate.exponent)
                : scientificLabel(mantissa: candidate.mantissa, exponent: candidate.exponent)
            return Tick(value: value, label: label)
        }
    }

    // MARK: - Step choice

    /// Slack, in units of the step, for ticks that sit on a range end up to rounding.
    private static let tolerance = 1e-9

    private struct Step {
        var multiplier: Int
        var exponent: Int
        var value: Double { decimalValue(mantissa: multiplier, exponent: exponent) }
    }

    private static func bestStep(from lower: Double, to upper: Double, targetCount: Int) -> Step? {
        let rawStep = (upper - lower) / Double(targetCount)
        guard rawStep.isFinite, rawStep > 0 else { return nil }
        let baseExponent = Int(log10(rawStep).rounded(.down))
        var best: (step: Step, miss: Int)?
        for exponent in (baseExponent - 1)...(baseExponent + 1) {
            for multiplier in [1, 2, 5] {
                let step = Step(multiplier: multiplier, exponent: exponent)
                let firstIndex = (lower / step.value - tolerance).rounded(.up)
                let lastIndex = (upper / step.value + tolerance).rounded(.down)
                // Ticks must be distinct doubles and countable as Int.
                guard abs(firstIndex) < 1e15, abs(lastIndex) < 1e15 else { continue }
                let count = Int(lastIndex - firstIndex) + 1
                guard count >= 2 else { continue }
                let miss = abs(count - targetCount)
                if best == nil || miss <= best!.miss { best = (step, miss) }
            }
        }
        return best?.step
    }

    // MARK: - Exact decimals

    /// Returns `mantissa × 10^exponent`, dividing rather than multiplying for negative
    /// exponents so that the result is the double nearest to the decimal.
    static func decimalValue(mantissa: Int, exponent: Int) -> Double {
        let scale = pow(10, Double(abs(exponent)))
        return exponent >= 0 ? Double(mantissa) * scale : Double(mantissa) / scale
    }

    /// Writes `mantissa × 10^exponent` with exactly `max(0, -exponent)` decimals.
    static func decimalLabel(mantissa: Int, exponent: Int) -> String {
        if mantissa == 0 {
            return exponent >= 0 ? "0" : "0." + String(repeating: "0", count: -exponent)
        }
        let sign = mantissa < 0 ? "-" : ""
        var digits = String(mantissa.magnitude)
        if exponent >= 0 {
            return sign + digits + String(repeating: "0", count: exponent)
        }
        let decimals = -exponent
        if digits.count <= decimals {
            digits = String(repeating: "0", count: decimals - digits.count + 1) + digits
        }
        let split = digits.index(digits.endIndex, offsetBy: -decimals)
        return sign + digits[..<split] + "." + digits[split...]
    }

    /// Writes `mantissa × 10^exponent` as `2.5×10⁻⁷`, or as `10⁴` when the mantissa is one.
    static func scientificLabel(mantissa: Int, exponent: Int) -> String {
        if mantissa == 0 { return "0" }
        var significand = mantissa.magnitude
        var power = exponent
        while significand % 10 == 0 {
            significand /= 10
            power += 1
        }
        let digits = String(significand)
        power += digits.count - 1
        let sign = mantissa < 0 ? "-" : ""
        if digits == "1" { return sign + "10" + superscript(power) }
        let lead = digits.prefix(1)
        let rest = digits.dropFirst()
        let significandText = rest.isEmpty ? String(lead) : lead + "." + rest
        return sign + significandText + "×10" + superscript(power)
    }

    private static func superscript(_ value: Int) -> String {
        let glyphs: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let digits = String(value.magnitude).map { glyphs[Int(String($0))!] }
        return (value < 0 ? "⁻" : "") + String(digits)
    }

    /// Formats a lone tick, which has no step to fix its decimals.
    static func plainLabel(_ value: Double) -> String {
        if value == 0 { return "0" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        return "\(value)"
    }
}
