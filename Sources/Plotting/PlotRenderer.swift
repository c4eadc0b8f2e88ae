/// Draws one `Plot` into a rectangle of an SVG document.
struct PlotRenderer {
    let plot: Plot
    /// A number unique within the figure, for the clip path id.
    let index: Int
    let width: Double
    let height: Double

    static let tickFontSize = 11.0
    static let labelFontSize = 12.0
    static let titleFontSize = 14.0
    static let frameColor = "#333333"
    static let gridColor = "#e5e5e5"

    // MARK: - Layout

    /// The pixel rectangle of the axes inside the plot's cell.
    struct Frame {
        var left: Double
        var right: Double
        var top: Double
        var bottom: Double
    }

    /// Measures the data ranges over the points that both axes can show, in transformed units.
    private func dataRanges(x xAxis: AxisLayout, y yAxis: AxisLayout)
        -> (x: (lower: Double, upper: Double)?, y: (lower: Double, upper: Double)?)
    {
        var xRange: (lower: Double, upper: Double)?
        var yRange: (lower: Double, upper: Double)?
        func include(_ x: Double, _ y: Double) {
            guard let tx = xAxis.transformed(x), let ty = yAxis.transformed(y) else { return }
            xRange = (min(xRange?.lower ?? tx, tx), max(xRange?.upper ?? tx, tx))
            yRange = (min(yRange?.lower ?? ty, ty), max(yRange?.upper ?? ty, ty))
        }
        for series in plot.series {
            for i in series.x.indices { include(series.x[i], series.y[i]) }
        }
        for quiver in plot.quivers {
            for i in quiver.x.indices {
                include(quiver.x[i], quiver.y[i])
                if let scale = quiver.scale {
                    include(quiver.x[i] + scale * quiver.u[i], quiver.y[i] + scale * quiver.v[i])
                }
            }
        }
        return (xRange, yRange)
    }

    /// Computes the axes with their ranges and pixel spans, and the frame they span.
    func layout() -> (x: AxisLayout, y: AxisLayout, frame: Frame) {
        let probeX = AxisLayout(scale: plot.xScale, lower: 0, upper: 1)
        let probeY = AxisLayout(scale: plot.yScale, lower: 0, upper: 1)
        let ranges = dataRanges(x: probeX, y: probeY)
        var xAxis = AxisLayout.fitted(
            scale: plot.xScale, dataRange: ranges.x, limits: plot.xLimits, axisName: "x")
        var yAxis = AxisLayout.fitted(
            scale: plot.yScale, dataRange: ranges.y, limits: plot.yLimits, axisName: "y")

        // The left margin fits the widest y tick label and the rotated y label.
        let yLabelWidth = yAxis.ticks(targetCount: plot.tickCount)
            .map { SVGText.estimatedWidth($0.label, fontSize: Self.tickFontSize) }.max() ?? 0
        let left = (plot.yLabel.isEmpty ? 10 : 30) + yLabelWidth + 8
        let frame = Frame(
            left: min(left, width / 2),
            right: max(width - 16, width / 2 + 1),
            top: plot.title.isEmpty ? 12 : 30,
            bottom: max(height - (plot.xLabel.isEmpty ? 30 : 48), 31))

        if plot.equalAspect && plot.xScale == .linear && plot.yScale == .linear {
            let frameWidth = frame.right - frame.left
            let frameHeight = frame.bottom - frame.top
            let xUnitsPerPixel = (xAxis.upper - xAxis.lower) / frameWidth
            let yUnitsPerPixel = (yAxis.upper - yAxis.lower) / frameHeight
            if xUnitsPerPixel > yUnitsPerPixel {
                let center = (yAxis.lower + yAxis.upper) / 2
                yAxis.lower = center - xUnitsPerPixel * frameHeight / 2
                yAxis.upper = center + xUnitsPerPixel * frameHeight / 2
            } else {
                let center = (xAxis.lower + xAxis.upper) / 2
                xAxis.lower = center - yUnitsPerPixel * frameWidth / 2
                xAxis.upper = center + yUnitsPerPixel * frameWidth / 2
            }
        }
        xAxis.pixelStart = frame.left
        xAxis.pixelEnd = frame.right
        yAxis.pixelStart = frame.bottom
        yAxis.pixelEnd = frame.top
        return (xAxis, yAxis, frame)
    }

    // MARK: - Drawing

    func render(into svg: inout SVGBuilder) {
        let (xAxis, yAxis, frame) = layout()
        let n = SVGText.number
        let clipID = "plot\(index)-clip"

        svg.open("defs", [])
        svg.open("clipPath", [("id", clipID)])
        svg.element(
            "rect",
            [
                ("x", n(frame.left)), ("y", n(frame.top)), ("width", n(frame.right - frame.left)),
                ("height", n(frame.bottom - frame.top)),
            ])
        svg.close("clipPath")
        svg.close("defs")

        drawAxes(xAxis: xAxis, yAxis: yAxis, frame: frame, into: &svg)

        svg.open("g", [("class", "data"), ("clip-path", "url(#\(clipID))")])
        for quiver in plot.quivers {
            drawQuiver(quiver, xAxis: xAxis, yAxis: yAxis, frame: frame, into: &svg)
        }
        for (seriesIndex, series) in plot.series.enumerated() {
            let color = (series.color ?? Palette.color(at: seriesIndex)).hexString
            drawSeries(series, color: color, xAxis: xAxis, yAxis: yAxis, into: &svg)
        }
        svg.close("g")

        svg.element(
            "rect",
            [
                ("class", "frame"), ("x", n(frame.left)), ("y", n(frame.top)),
                ("width", n(frame.right - frame.left)), ("height", n(frame.bottom - frame.top)),
                ("fill", "none"), ("stroke", Self.frameColor),
            ])
        drawLegend(frame: frame, xAxis: xAxis, yAxis: yAxis, into: &svg)
        drawTitles(frame: frame, into: &svg)
    }

    private func drawAxes(xAxis: AxisLayout, yAxis: AxisLayout, frame: Frame, into svg: inout SVGBuilder) {
        let n = SVGText.number
        let xTicks = xAxis.ticks(targetCount: plot.tickCount).compactMap { tick in
            xAxis.pixel(tick.value).flatMap { $0 >= frame.left - 0.5 && $0 <= frame.right + 0.5 ? (tick, $0) : nil }
        }
        let yTicks = yAxis.ticks(targetCount: plot.tickCount).compactMap { tick in
            yAxis.pixel(tick.value).flatMap { $0 >= frame.top - 0.5 && $0 <= frame.bottom + 0.5 ? (tick, $0) : nil }
        }

        if plot.showsGrid {
            var grid = ""
            for (_, x) in xTicks { grid += "M\(n(x)) \(n(frame.top))V\(n(frame.bottom))" }
            for (_, y) in yTicks { grid += "M\(n(frame.left)) \(n(y))H\(n(frame.right))" }
            if !grid.isEmpty {
                svg.element("path", [("class", "grid"), ("d", grid), ("stroke", Self.gridColor), ("fill", "none")])
            }
        }

        var marks = ""
        for (_, x) in xTicks { marks += "M\(n(x)) \(n(frame.bottom))v5" }
        for (_, y) in yTicks { marks += "M\(n(frame.left)) \(n(y))h-5" }
        if !marks.isEmpty {
            svg.element("path", [("class", "tick-marks"), ("d", marks), ("stroke", Self.frameColor), ("fill", "none")])
        }

        svg.open("g", [("class", "tick-labels"), ("font-size", n(Self.tickFontSize)), ("fill", Self.frameColor)])
        for (tick, x) in xTicks {
            svg.element(
                "text", [("x", n(x)), ("y", n(frame.bottom + 18)), ("text-anchor", "middle")],
                content: tick.label)
        }
        for (tick, y) in yTicks {
            svg.element(
                "text", [("x", n(frame.left - 8)), ("y", n(y + 4)), ("text-anchor", "end")],
                content: tick.label)
        }
        svg.close("g")
    }

    private func drawSeries(
        _ series: Series, color: String, xAxis: AxisLayout, yAxis: AxisLayout, into svg: inout SVGBuilder
    ) {
        let n = SVGText.number
        var points: [(x: Double, y: Double)?] = []
        points.reserveCapacity(series.x.count)
        for i in series.x.indices {
            if let px = xAxis.pixel(series.x[i]), let py = yAxis.pixel(series.y[i]) {
                points.append((px, py))
            } else {
                points.append(nil)
            }
        }

        let lineWidth: Double?
        let marker: (shape: MarkerShape, size: Double)?
        var dashed = false
        switch series.style {
        case let .line(width, isDashed):
            lineWidth = width
            marker = nil
            dashed = isDashed
        case let .scatter(shape, size):
            lineWidth = nil
            marker = (shape, size)
        case let .lineWithMarkers(shape, size, width):
            lineWidth = width
            marker = (shape, size)
        }

        if let lineWidth {
            let path = Self.polylinePath(points)
            if !path.isEmpty {
                var attributes = [
                    ("class", "line"), ("d", path), ("fill", "none"), ("stroke", color),
                    ("stroke-width", n(lineWidth)), ("stroke-linejoin", "round"),
                ]
                if dashed { attributes.append(("stroke-dasharray", "6 4")) }
                if series.opacity < 1 { attributes.append(("stroke-opacity", n(series.opacity))) }
                svg.element("path", attributes)
            }
        }
        if let marker {
            var attributes = [("class", "markers"), ("fill", color), ("stroke", color)]
            if series.opacity < 1 {
                attributes.append(("fill-opacity", n(series.opacity)))
                attributes.append(("stroke-opacity", n(series.opacity)))
            }
            svg.open("g", attributes)
            for case let point? in points {
                svg.append(Self.markerElement(marker.shape, x: point.x, y: point.y, size: marker.size, cssClass: "marker"))
            }
            svg.close("g")
        }
    }

    /// Path data through the points, with a new subpath after every gap; runs of a single
    /// point draw nothing and are left out.
    static func polylinePath(_ points: [(x: Double, y: Double)?]) -> String {
        let n = SVGText.number
        var path = ""
        var run: [(x: Double, y: Double)] = []
        func flush() {
            if run.count >= 2 {
                path += "M\(n(run[0].x)) \(n(run[0].y))"
                for point in run.dropFirst() { path += "L\(n(point.x)) \(n(point.y))" }
            }
            run.removeAll(keepingCapacity: true)
        }
        for point in points {
            if let point { run.append(point) } else { flush() }
        }
        flush()
        return path
    }

    /// Returns one marker element centred on `(x, y)`. The enclosing group sets fill and stroke.
    static func markerElement(_ shape: MarkerShape, x: Double, y: Double, size: Double, cssClass: String) -> String {
        let n = SVGText.number
        let r = size / 2
        switch shape {
        case .circle:
            return "<circle class=\"\(cssClass)\" cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(r))\" stroke=\"none\"/>"
        case .square:
            return "<rect class=\"\(cssClass)\" x=\"\(n(x - r))\" y=\"\(n(y - r))\" width=\"\(n(size))\" "
                + "height=\"\(n(size))\" stroke=\"none\"/>"
        case .triangle:
            let dx = r * 0.866
            return "<path class=\"\(cssClass)\" d=\"M\(n(x)) \(n(y - r))L\(n(x + dx)) \(n(y + r / 2))"
                + "L\(n(x - dx)) \(n(y + r / 2))Z\" stroke=\"none\"/>"
        case .diamond:
            return "<path class=\"\(cssClass)\" d=\"M\(n(x)) \(n(y - r))L\(n(x + r)) \(n(y))L\(n(x)) \(n(y + r))"
                + "L\(n(x - r)) \(n(y))Z\" stroke=\"none\"/>"
        case .cross:
            return "<path class=\"\(cssClass)\" d=\"M\(n(x - r)) \(n(y - r))L\(n(x + r)) \(n(y + r))"
                + "M\(n(x - r)) \(n(y + r))L\(n(x + r)) \(n(y - r))\" fill=\"none\" stroke-width=\"1.5\"/>"
        }
    }

    private func drawQuiver(
        _ quiver: Quiver, xAxis: AxisLayout, yAxis: AxisLayout, frame: Frame, into svg: inout SVGBuilder
    ) {
        precondition(
            plot.xScale == .linear && plot.yScale == .linear,
            "Plot '\(plot.title)': quiver arrows need linear axes, got x \(plot.xScale) and y \(plot.yScale)")
        let n = SVGText.number

        // Tail and pixel displacement of each drawable arrow.
        var arrows: [(x: Double, y: Double, dx: Double, dy: Double)] = []
        for i in quiver.x.indices {
            guard let px = xAxis.pixel(quiver.x[i]), let py = yAxis.pixel(quiver.y[i]),
                quiver.u[i].isFinite, quiver.v[i].isFinite
            else { continue }
            arrows.append((px, py, quiver.u[i] * xAxis.pixelsPerUnit, quiver.v[i] * yAxis.pixelsPerUnit))
        }
        guard !arrows.isEmpty else { return }

        let factor: Double
        if let scale = quiver.scale {
            factor = scale
        } else {
            let longest = arrows.map { ($0.dx * $0.dx + $0.dy * $0.dy).squareRoot() }.max()!
            guard longest > 0, longest.isFinite else { return }
            let area = (frame.right - frame.left) * (frame.bottom - frame.top)
            let spacing = (area / Double(arrows.count)).squareRoot()
            factor = 0.9 * spacing / longest
        }

        svg.open("g", [("class", "quiver"), ("stroke", quiver.color.hexString), ("fill", "none"), ("stroke-width", "1")])
        for arrow in arrows {
            let dx = arrow.dx * factor
            let dy = arrow.dy * factor
            let length = (dx * dx + dy * dy).squareRoot()
            guard length > 0.5, length.isFinite else { continue }
            let tipX = arrow.x + dx
            let tipY = arrow.y + dy
            // Head: two strokes back from the tip at ±25° to the shaft.
            let head = min(6, 0.35 * length)
            let ux = dx / length
            let uy = dy / length
            let cosine = 0.9063
            let sine = 0.4226
            let leftX = tipX - head * (ux * cosine - uy * sine)
            let leftY = tipY - head * (uy * cosine + ux * sine)
            let rightX = tipX - head * (ux * cosine + uy * sine)
            let rightY = tipY - head * (uy * cosine - ux * sine)
            svg.append(
                "<path class=\"arrow\" d=\"M\(n(arrow.x)) \(n(arrow.y))L\(n(tipX)) \(n(tipY))"
                    + "M\(n(leftX)) \(n(leftY))L\(n(tipX)) \(n(tipY))L\(n(rightX)) \(n(rightY))\"/>")
        }
        svg.close("g")
    }

    /// Pixel positions of the data, for placing the legend: every point, and along lines
    /// four more samples per segment.
    private func dataSamples(xAxis: AxisLayout, yAxis: AxisLayout) -> [(x: Double, y: Double)] {
        var samples: [(x: Double, y: Double)] = []
        for series in plot.series {
            var previous: (x: Double, y: Double)?
            let isLine: Bool
            if case .scatter = series.style { isLine = false } else { isLine = true }
            for i in series.x.indices {
                guard let px = xAxis.pixel(series.x[i]), let py = yAxis.pixel(series.y[i]) else {
                    previous = nil
                    continue
                }
                if isLine, let previous {
                    for step in 1...4 {
                        let t = Double(step) / 5
                        samples.append((previous.x + t * (px - previous.x), previous.y + t * (py - previous.y)))
                    }
                }
                samples.append((px, py))
                previous = (px, py)
            }
        }
        return samples
    }

    private func drawLegend(frame: Frame, xAxis: AxisLayout, yAxis: AxisLayout, into svg: inout SVGBuilder) {
        let entries = plot.series.enumerated().compactMap { index, series -> (Series, String)? in
            guard let label = series.label, !label.isEmpty else { return nil }
            return (series, (series.color ?? Palette.color(at: index)).hexString)
        }
        guard !entries.isEmpty, plot.legendPosition != .hidden else { return }
        let n = SVGText.number
        let rowHeight = 18.0
        let swatchWidth = 24.0
        let textWidth = entries.map { SVGText.estimatedWidth($0.0.label!, fontSize: Self.labelFontSize) }.max()!
        let boxWidth = 8 + swatchWidth + 6 + textWidth + 8
        let boxHeight = 6 + Double(entries.count) * rowHeight
        let inset = 8.0
        func corner(_ position: LegendPosition) -> (x: Double, y: Double) {
            switch position {
            case .topLeft: (frame.left + inset, frame.top + inset)
            case .bottomRight: (frame.right - inset - boxWidth, frame.bottom - inset - boxHeight)
            case .bottomLeft: (frame.left + inset, frame.bottom - inset - boxHeight)
            case .topRight, .automatic, .hidden: (frame.right - inset - boxWidth, frame.top + inset)
            }
        }
        var position = plot.legendPosition
        if position == .automatic {
            let candidates: [LegendPosition] = [.topRight, .topLeft, .bottomRight, .bottomLeft]
            let samples = dataSamples(xAxis: xAxis, yAxis: yAxis)
            let covered = candidates.map { candidate in
                let (x, y) = corner(candidate)
                return samples.count { $0.x >= x && $0.x <= x + boxWidth && $0.y >= y && $0.y <= y + boxHeight }
            }
            position = candidates[covered.indices.min { covered[$0] < covered[$1] }!]
        }
        let (boxX, boxY) = corner(position)

        svg.open("g", [("class", "legend"), ("font-size", n(Self.labelFontSize))])
        svg.element(
            "rect",
            [
                ("x", n(boxX)), ("y", n(boxY)), ("width", n(boxWidth)), ("height", n(boxHeight)),
                ("fill", "white"), ("fill-opacity", "0.85"), ("stroke", "#bbbbbb"),
            ])
        for (row, (series, color)) in entries.enumerated() {
            let centerY = boxY + 3 + (Double(row) + 0.5) * rowHeight
            let swatchLeft = boxX + 8
            svg.open("g", [("class", "legend-entry"), ("fill", color), ("stroke", color)])
            switch series.style {
            case let .line(width, dashed):
                var attributes = [
                    ("class", "legend-swatch"),
                    ("d", "M\(n(swatchLeft)) \(n(centerY))h\(n(swatchWidth))"),
                    ("stroke-width", n(width)), ("fill", "none"),
                ]
                if dashed { attributes.append(("stroke-dasharray", "6 4")) }
                svg.element("path", attributes)
            case let .scatter(shape, size):
                svg.append(
                    Self.markerElement(
                        shape, x: swatchLeft + swatchWidth / 2, y: centerY, size: size, cssClass: "legend-swatch"))
            case let .lineWithMarkers(shape, size, width):
                svg.element(
                    "path",
                    [
                        ("class", "legend-swatch"), ("d", "M\(n(swatchLeft)) \(n(centerY))h\(n(swatchWidth))"),
                        ("stroke-width", n(width)), ("fill", "none"),
                    ])
                svg.append(
                    Self.markerElement(
                        shape, x: swatchLeft + swatchWidth / 2, y: centerY, size: size, cssClass: "legend-swatch"))
            }
            svg.element(
                "text",
                [
                    ("class", "legend-label"), ("x", n(swatchLeft + swatchWidth + 6)), ("y", n(centerY + 4)),
                    ("fill", "#222222"), ("stroke", "none"),
                ],
                content: series.label!)
            svg.close("g")
        }
        svg.close("g")
    }

    private func drawTitles(frame: Frame, into svg: inout SVGBuilder) {
        let n = SVGText.number
        let centerX = (frame.left + frame.right) / 2
        if !plot.title.isEmpty {
            svg.element(
                "text",
                [
                    ("class", "title"), ("x", n(centerX)), ("y", n(frame.top - 10)), ("text-anchor", "middle"),
                    ("font-size", n(Self.titleFontSize)), ("font-weight", "bold"),
                ],
                content: plot.title)
        }
        if !plot.xLabel.isEmpty {
            svg.element(
                "text",
                [
                    ("class", "x-label"), ("x", n(centerX)), ("y", n(frame.bottom + 38)),
                    ("text-anchor", "middle"), ("font-size", n(Self.labelFontSize)),
                ],
                content: plot.xLabel)
        }
        if !plot.yLabel.isEmpty {
            let centerY = (frame.top + frame.bottom) / 2
            svg.element(
                "text",
                [
                    ("class", "y-label"), ("x", "16"), ("y", n(centerY)), ("text-anchor", "middle"),
                    ("font-size", n(Self.labelFontSize)), ("transform", "rotate(-90 16 \(n(centerY)))"),
                ],
                content: plot.yLabel)
        }
    }
}
