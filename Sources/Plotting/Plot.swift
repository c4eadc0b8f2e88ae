/// The mapping from data values to positions along an axis.
public enum AxisScale: Sendable, Hashable {
    case linear
    /// Base-10 logarithmic; points whose value on this axis is zero or negative are skipped.
    case log10
}

/// The shape drawn at each point of a scatter series.
public enum MarkerShape: Sendable, Hashable {
    case circle, square, triangle, diamond, cross
}

/// The drawing style of a series.
public enum SeriesStyle: Sendable, Hashable {
    /// A polyline through the points, broken at every skipped point.
    case line(width: Double = 1.5, dashed: Bool = false)
    /// One marker per point; `size` is the marker's width in pixels.
    case scatter(MarkerShape = .circle, size: Double = 5)
    /// A polyline with a marker at every point.
    case lineWithMarkers(MarkerShape = .circle, size: Double = 5, width: Double = 1.5)
}

/// One data series of a plot.
public struct Series: Sendable {
    /// The legend entry; a series without a label has none.
    public var label: String?
    public var x: [Double]
    public var y: [Double]
    public var style: SeriesStyle
    /// The colour; `nil` takes the palette colour of the series' index in its plot.
    public var color: RGBColor?
    /// Opacity from 0 (invisible) to 1, useful for dense sample clouds.
    public var opacity: Double

    /// Creates a series; `x` and `y` must have the same length.
    public init(
        label: String? = nil, x: [Double], y: [Double], style: SeriesStyle = .line(),
        color: RGBColor? = nil, opacity: Double = 1
    ) {
        precondition(
            x.count == y.count,
            "Series \(label.map { "'\($0)'" } ?? "(unlabelled)"): x has \(x.count) values "
                + "but y has \(y.count)")
        precondition(
            opacity >= 0 && opacity <= 1, "Series: opacity must be in [0, 1], got \(opacity)")
        self.label = label
        self.x = x
        self.y = y
        self.style = style
        self.color = color
        self.opacity = opacity
    }
}

/// Arrows of a vector field, drawn from `(x[i], y[i])` along `(u[i], v[i])`.
public struct Quiver: Sendable {
    public var x: [Double]
    public var y: [Double]
    public var u: [Double]
    public var v: [Double]
    public var color: RGBColor
    /// The arrow for vector `(u, v)` ends at `(x + scale·u, y + scale·v)` in data units.
    /// `nil` scales all arrows together so that the longest is 0.9 of the mean spacing of
    /// the arrow tails on the page.
    public var scale: Double?

    /// Creates a vector field; all four arrays must have the same length.
    public init(x: [Double], y: [Double], u: [Double], v: [Double], color: RGBColor = .gray, scale: Double? = nil) {
        precondition(
            x.count == y.count && x.count == u.count && x.count == v.count,
            "Quiver: x, y, u and v must have the same length, got \(x.count), \(y.count), "
                + "\(u.count) and \(v.count)")
        if let scale {
            precondition(scale.isFinite && scale > 0, "Quiver: scale must be positive and finite, got \(scale)")
        }
        self.x = x
        self.y = y
        self.u = u
        self.v = v
        self.color = color
        self.scale = scale
    }
}

/// The place of a plot's legend, inside the axes.
public enum LegendPosition: Sendable, Hashable {
    /// The corner where the legend covers the fewest data points and line samples, trying
    /// top right, top left, bottom right and bottom left in that order on ties.
    case automatic
    case topRight, topLeft, bottomRight, bottomLeft
    /// No legend, even when series have labels.
    case hidden
}

/// One panel of a figure: a pair of axes with its series, labels and legend.
///
/// ```swift
/// var plot = Plot(title: "Training loss", xLabel: "iteration", yLabel: "loss")
/// plot.yScale = .log10
/// plot.addLine(x: iterations, y: losses, label: "ODE-Net")
/// try Figure(plot).writeSVG(to: "loss.svg")
/// ```
public struct Plot: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: AxisScale = .linear
    public var yScale: AxisScale = .linear
    /// Fixed x range; `nil` fits the data with a 5% margin.
    public var xLimits: ClosedRange<Double>?
    /// Fixed y range; `nil` fits the data with a 5% margin.
    public var yLimits: ClosedRange<Double>?
    /// Widens one axis range so that a data unit has the same length on both axes, as
    /// phase portraits need. Applies to linear axes only.
    public var equalAspect = false
    public var legendPosition: LegendPosition = .automatic
    /// Light lines at the major ticks.
    public var showsGrid = true
    /// The approximate number of ticks per axis.
    public var tickCount = 5
    public var series: [Series] = []
    public var quivers: [Quiver] = []

    public init(title: String = "", xLabel: String = "", yLabel: String = "") {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// Appends a series.
    public mutating func add(_ series: Series) {
        self.series.append(series)
    }

    /// Appends a line through the points `(x[i], y[i])`.
    public mutating func addLine(
        x: [Double], y: [Double], label: String? = nil, color: RGBColor? = nil,
        width: Double = 1.5, dashed: Bool = false
    ) {
        add(Series(label: label, x: x, y: y, style: .line(width: width, dashed: dashed), color: color))
    }

    /// Appends a line through `y` at x = 0, 1, 2, ….
    public mutating func addLine(y: [Double], label: String? = nil, color: RGBColor? = nil) {
        addLine(x: y.indices.map(Double.init), y: y, label: label, color: color)
    }

    /// Appends one marker per point.
    public mutating func addScatter(
        x: [Double], y: [Double], label: String? = nil, color: RGBColor? = nil,
        marker: MarkerShape = .circle, size: Double = 5, opacity: Double = 1
    ) {
        add(Series(label: label, x: x, y: y, style: .scatter(marker, size: size), color: color, opacity: opacity))
    }

    /// Appends arrows of a vector field, for phase portraits.
    ///
    /// Arrows need linear axes: rendering a plot with arrows on a log axis stops with a
    /// precondition failure.
    public mutating func addQuiver(
        x: [Double], y: [Double], u: [Double], v: [Double], color: RGBColor = .gray, scale: Double? = nil
    ) {
        quivers.append(Quiver(x: x, y: y, u: u, v: v, color: color, scale: scale))
    }
}
