/// A map from values in [0, 1] to colours, by linear interpolation between control points.
public struct ColorMap: Sendable {
    /// The positions in [0, 1], strictly increasing, from 0 to 1.
    public let positions: [Double]
    /// The colour at each position.
    public let colors: [RGBColor]

    /// Creates a colour map through `colors` at `positions`.
    ///
    /// - Precondition: the arrays have the same length of at least two, the positions rise
    ///   strictly, the first is 0 and the last is 1.
    public init(positions: [Double], colors: [RGBColor]) {
        precondition(
            positions.count == colors.count && positions.count >= 2,
            "ColorMap: needs at least two positions and one colour per position, got "
                + "\(positions.count) positions and \(colors.count) colours")
        precondition(
            positions.first == 0 && positions.last == 1,
            "ColorMap: positions must run from 0 to 1, got \(positions)")
        for i in 1..<positions.count {
            precondition(
                positions[i] > positions[i - 1],
                "ColorMap: positions must rise strictly, got \(positions)")
        }
        self.positions = positions
        self.colors = colors
    }

    /// Creates a colour map through `colors` at evenly spaced positions.
    public init(evenlySpaced colors: [RGBColor]) {
        precondition(colors.count >= 2, "ColorMap: needs at least two colours, got \(colors.count)")
        let last = Double(colors.count - 1)
        self.init(positions: (0..<colors.count).map { Double($0) / last }, colors: colors)
    }

    /// The colour at `t`, clamped to [0, 1]; NaN gives the colour at 0.
    public func color(at t: Double) -> RGBColor {
        let clamped = t.isNaN ? 0 : min(1, max(0, t))
        var upper = 1
        while upper < positions.count - 1 && positions[upper] < clamped { upper += 1 }
        let lower = upper - 1
        let fraction = (clamped - positions[lower]) / (positions[upper] - positions[lower])

        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Double(a) + (Double(b) - Double(a)) * fraction).rounded())
        }
        let a = colors[lower]
        let b = colors[upper]
        return RGBColor(red: mix(a.red, b.red), green: mix(a.green, b.green), blue: mix(a.blue, b.blue))
    }

    /// A perceptually uniform map from dark purple through blue and green to yellow.
    ///
    /// The control points are matplotlib's viridis colour map (van der Walt and Smith, 2015)
    /// sampled at nine evenly spaced positions; between them the map is linear in sRGB, which
    /// stays within a few levels of the full 256-entry table.
    public static let viridis = ColorMap(evenlySpaced: [
        RGBColor(hex: 0x440154), RGBColor(hex: 0x472D7B), RGBColor(hex: 0x3B528B),
        RGBColor(hex: 0x2C728E), RGBColor(hex: 0x21908C), RGBColor(hex: 0x27AD81),
        RGBColor(hex: 0x5DC863), RGBColor(hex: 0xAADC32), RGBColor(hex: 0xFDE725),
    ])

    /// Black at 0 to white at 1.
    public static let grayscale = ColorMap(evenlySpaced: [.black, .white])

    /// White at 0 to black at 1, for dark ink on white paper.
    public static let inverseGrayscale = ColorMap(evenlySpaced: [.white, .black])
}
