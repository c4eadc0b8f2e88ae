/// A picture of one or more plots in a grid, written as SVG.
///
/// Plots fill the grid row by row, `columns` to a row, each in a cell of `plotWidth` by
/// `plotHeight` pixels.
///
/// ```swift
/// var trajectories = Plot(title: "Spiral", xLabel: "x", yLabel: "y")
/// trajectories.equalAspect = true
/// trajectories.addLine(x: trueX, y: trueY, label: "data")
/// trajectories.addLine(x: fittedX, y: fittedY, label: "ODE fit")
/// var loss = Plot(title: "Loss", xLabel: "iteration", yLabel: "MSE")
/// loss.yScale = .log10
/// loss.addLine(y: losses)
/// try Figure(columns: 2, plots: [trajectories, loss]).writeSVG(to: "spiral.svg")
/// ```
public struct Figure: Sendable {
    public var plots: [Plot]
    /// The number of plots per row.
    public var columns: Int
    public var plotWidth: Double
    public var plotHeight: Double
    /// A title above the whole grid; empty for none.
    public var title: String

    public init(
        columns: Int = 1, plotWidth: Double = 480, plotHeight: Double = 360, title: String = "",
        plots: [Plot] = []
    ) {
        precondition(columns >= 1, "Figure: columns must be at least 1, got \(columns)")
        precondition(
            plotWidth >= 100 && plotHeight >= 100 && plotWidth.isFinite && plotHeight.isFinite,
            "Figure: plots need at least 100 by 100 pixels, got \(plotWidth) by \(plotHeight)")
        self.columns = columns
        self.plotWidth = plotWidth
        self.plotHeight = plotHeight
        self.title = title
        self.plots = plots
    }

    /// Creates a figure of a single plot.
    public init(_ plot: Plot, width: Double = 480, height: Double = 360) {
        self.init(plotWidth: width, plotHeight: height, plots: [plot])
    }

    /// Appends a plot in the next free cell.
    public mutating func add(_ plot: Plot) {
        plots.append(plot)
    }

    /// Renders the figure as a standalone SVG 1.1 document.
    public func svg() -> String {
        let n = SVGText.number
        let usedColumns = max(1, min(columns, plots.count))
        let rows = max(1, (plots.count + columns - 1) / columns)
        let titleHeight = title.isEmpty ? 0.0 : 32.0
        let width = Double(usedColumns) * plotWidth
        let height = Double(rows) * plotHeight + titleHeight

        var svg = SVGBuilder()
        svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        svg.open(
            "svg",
            [
                ("xmlns", "http://www.w3.org/2000/svg"), ("version", "1.1"), ("width", n(width)),
                ("height", n(height)), ("viewBox", "0 0 \(n(width)) \(n(height))"),
                ("font-family", "Helvetica, Arial, sans-serif"),
            ])
        svg.element(
            "rect", [("class", "background"), ("width", n(width)), ("height", n(height)), ("fill", "white")])
        if !title.isEmpty {
            svg.element(
                "text",
                [
                    ("class", "figure-title"), ("x", n(width / 2)), ("y", "22"), ("text-anchor", "middle"),
                    ("font-size", "16"), ("font-weight", "bold"),
                ],
                content: title)
        }
        for (index, plot) in plots.enumerated() {
            let originX = Double(index % columns) * plotWidth
            let originY = Double(index / columns) * plotHeight + titleHeight
            svg.open("g", [("class", "plot"), ("transform", "translate(\(n(originX)) \(n(originY)))")])
            PlotRenderer(plot: plot, index: index, width: plotWidth, height: plotHeight).render(into: &svg)
            svg.close("g")
        }
        svg.close("svg")
        return svg.text
    }

    /// Writes the SVG document to `path`, replacing any file there in one rename.
    public func writeSVG(to path: String) throws(PlottingError) {
        try AtomicFile.write(Array(svg().utf8), to: path)
    }
}
