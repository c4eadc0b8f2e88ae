import Foundation

/// One axis of a plot on the page: its scale, its range and the pixels it spans.
///
/// `lower` and `upper` are in transformed units: the data value on a linear axis, its
/// base-10 logarithm on a log axis.
struct AxisLayout {
    var scale: AxisScale
    var lower: Double
    var upper: Double
    /// The pixel coordinate of `lower`.
    var pixelStart: Double = 0
    /// The pixel coordinate of `upper`; smaller than `pixelStart` on a y axis.
    var pixelEnd: Double = 1

    /// Returns the value in transformed units, or `nil` for a point this axis cannot show.
    func transformed(_ value: Double) -> Double? {
        switch scale {
        case .linear: value.isFinite ? value : nil
        case .log10: value.isFinite && value > 0 ? log10(value) : nil
        }
    }

    /// Returns the pixel coordinate of a data value, or `nil` for a point this axis cannot show.
    func pixel(_ value: Double) -> Double? {
        transformed(value).map(pixel(transformed:))
    }

    func pixel(transformed value: Double) -> Double {
        pixelStart + (value - lower) * pixelsPerUnit
    }

    /// Signed pixels per transformed unit.
    var pixelsPerUnit: Double {
        (pixelEnd - pixelStart) / (upper - lower)
    }

    func ticks(targetCount: Int) -> [Tick] {
        switch scale {
        case .linear:
            Ticks.linear(from: lower, to: upper, targetCount: targetCount)
        case .log10:
            Ticks.logarithmic(
                from: pow(10, lower), to: pow(10, upper), targetCount: targetCount)
        }
    }

    /// Fits the axis range to data spanning `dataRange` (transformed units), or to fixed
    /// `limits` (data units).
    ///
    /// Data ranges get a 5% margin on each side. A range of zero width (one distinct value,
    /// or equal limits) widens by 10% of the value, or by half a unit when the value is zero
    /// and by half a decade on a log axis. No data at all gives 0...1 on a linear axis and
    /// 1...10 on a log axis. A linear range stays within ±Double.greatestFiniteMagnitude / 4
    /// and a log range within 10⁻³⁰⁷...10³⁰⁸, so that spans and tick values stay finite.
    static func fitted(
        scale: AxisScale, dataRange: (lower: Double, upper: Double)?, limits: ClosedRange<Double>?,
        axisName: String
    ) -> AxisLayout {
        var lower: Double
        var upper: Double
        var margin = 0.05
        if let limits {
            precondition(
                limits.lowerBound.isFinite && limits.upperBound.isFinite,
                "Plot: \(axisName) limits must be finite, got \(limits)")
            if scale == .log10 {
                precondition(
                    limits.lowerBound > 0,
                    "Plot: \(axisName) limits must be positive on a log10 axis, got \(limits)")
                lower = log10(limits.lowerBound)
                upper = log10(limits.upperBound)
            } else {
                lower = limits.lowerBound
                upper = limits.upperBound
            }
            margin = 0
        } else if let dataRange {
            lower = dataRange.lower
            upper = dataRange.upper
        } else {
            lower = 0
            upper = 1
            margin = 0
        }

        if lower == upper {
            let pad = scale == .log10 || lower == 0 ? 0.5 : abs(lower) * 0.1
            lower -= pad
            upper += pad
        } else {
            let pad = margin * upper - margin * lower
            lower -= pad
            upper += pad
        }
        // A span too narrow for Double arithmetic, such as between two subnormal values,
        // widens around its centre.
        let minimumSpan = max(abs(lower), abs(upper)) * 1e-12 + 1e-300
        if !(upper - lower >= minimumSpan) {
            let center = lower / 2 + upper / 2
            lower = center - minimumSpan / 2
            upper = center + minimumSpan / 2
        }
        if scale == .log10 {
            // Keep 10^lower and 10^upper normal and finite.
            lower = min(max(lower, -307), 307)
            upper = max(min(upper, 308), lower + 1)
            return AxisLayout(scale: scale, lower: lower, upper: upper)
        }
        // Keep the span finite even for data near ±Double.greatestFiniteMagnitude.
        let bound = Double.greatestFiniteMagnitude / 4
        return AxisLayout(scale: scale, lower: max(-bound, lower), upper: min(bound, upper))
    }
}
