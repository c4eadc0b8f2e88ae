import Foundation
import Plotting
import Testing

@Suite("SVG figures")
struct FigureSVGTests {
    /// Builds a plot with two labelled lines and a labelled scatter series of 4 points.
    private func trainingPlot() -> Plot {
        var plot = Plot(title: "Training loss", xLabel: "iteration", yLabel: "cross-entropy")
        plot.addLine(x: [0, 1, 2, 3], y: [2.3, 1.1, 0.7, 0.5], label: "ResNet")
        plot.addLine(x: [0, 1, 2, 3], y: [2.3, 1.0, 0.6, 0.4], label: "ODE-Net", dashed: true)
        plot.addScatter(x: [0.5, 1.5, 2.5, 3.5], y: [1.8, 0.9, 0.6, 0.45], label: "test", marker: .square)
        return plot
    }

    @Test("plot parses as XML with title, labels and legend")
    func wellFormedPlot() throws {
        let svg = SVGInspector(Figure(trainingPlot()).svg())
        #expect(svg.isWellFormed, "\(svg.parseError ?? "")")
        #expect(svg.elements.first?.name == "svg")
        #expect(svg.texts(class: "title") == ["Training loss"])
        #expect(svg.texts(class: "x-label") == ["iteration"])
        #expect(svg.texts(class: "y-label") == ["cross-entropy"])
        #expect(svg.texts(class: "legend-label") == ["ResNet", "ODE-Net", "test"])
        #expect(svg.elements(named: "path", class: "line").count == 2)
        #expect(svg.elements(class: "marker").count == 4)
        #expect(svg.elements(named: "rect", class: "marker").count == 4)
        #expect(svg.elements(named: "g", class: "legend-entry").count == 3)
    }

    @Test("series take palette colours in order")
    func paletteColours() {
        let svg = SVGInspector(Figure(trainingPlot()).svg())
        let strokes = svg.elements(named: "path", class: "line").map { $0.attributes["stroke"] }
        #expect(strokes == [Palette.colors[0].hexString, Palette.colors[1].hexString])
        #expect(strokes == ["#0072b2", "#d55e00"])
        let dashed = svg.elements(named: "path", class: "line").map { $0.attributes["stroke-dasharray"] != nil }
        #expect(dashed == [false, true])
    }

    @Test("special characters are escaped")
    func escaping() {
        let title = "loss < 0.1 & \"NFE\" > 'twenty'"
        var plot = Plot(title: title, xLabel: "t → ∞", yLabel: "a\u{1}b")
        plot.addLine(x: [0, 1], y: [0, 1], label: "<script>")
        let text = Figure(plot).svg()
        #expect(!text.contains("<script>"))
        let svg = SVGInspector(text)
        #expect(svg.isWellFormed, "\(svg.parseError ?? "")")
        #expect(svg.texts(class: "title") == [title])
        #expect(svg.texts(class: "x-label") == ["t → ∞"])
        // XML 1.0 cannot hold U+0001, so it becomes a space.
        #expect(svg.texts(class: "y-label") == ["a b"])
        #expect(svg.texts(class: "legend-label") == ["<script>"])
    }

    @Test("non-finite values break the line")
    func nonFiniteBreaksLine() throws {
        var plot = Plot()
        plot.addLine(x: [0, 1, 2, 3, 4, 5, 6], y: [0, 1, .nan, 3, 4, .infinity, 6])
        let svg = SVGInspector(Figure(plot).svg())
        let lines = svg.elements(named: "path", class: "line")
        try #require(lines.count == 1)
        let d = lines[0].attributes["d"] ?? ""
        // Runs [0, 1] and [3, 4] are drawn; the lone point 6 is not.
        #expect(d.filter { $0 == "M" }.count == 2)
        #expect(d.filter { $0 == "L" }.count == 2)
    }

    @Test("non-finite scatter points are skipped")
    func nonFiniteScatter() {
        var plot = Plot()
        plot.addScatter(x: [0, .nan, 2, 3], y: [1, 1, -.infinity, 3])
        let svg = SVGInspector(Figure(plot).svg())
        #expect(svg.elements(named: "circle", class: "marker").count == 2)
    }

    @Test("log axis skips non-positive values")
    func logAxisSkipsNonPositive() {
        var plot = Plot(title: "NFE", xLabel: "tolerance", yLabel: "function evaluations")
        plot.xScale = .log10
        plot.addScatter(x: [1e-7, 1e-5, 1e-3, 0, -1], y: [200, 80, 26, 10, 10])
        let svg = SVGInspector(Figure(plot).svg())
        #expect(svg.isWellFormed)
        #expect(svg.elements(class: "marker").count == 3)
        let labels = svg.elements(named: "text").filter { $0.attributes["text-anchor"] == "middle" }.map(\.text)
        #expect(labels.contains("10⁻⁷"))
        #expect(labels.contains("10⁻³"))
    }

    @Test("empty series gives a valid picture")
    func emptySeries() {
        var plot = Plot(title: "empty", xLabel: "x", yLabel: "y")
        plot.addLine(x: [], y: [], label: "nothing")
        plot.addScatter(x: [], y: [])
        let svg = SVGInspector(Figure(plot).svg())
        #expect(svg.isWellFormed, "\(svg.parseError ?? "")")
        #expect(svg.elements(named: "path", class: "line").isEmpty)
        #expect(svg.elements(class: "marker").isEmpty)
        #expect(svg.texts(class: "legend-label") == ["nothing"])
        // The axes fall back to 0...1 and still get ticks.
        #expect(!svg.elements(named: "text").filter { $0.attributes["text-anchor"] == "end" }.isEmpty)
    }

    @Test("constant values give a valid picture")
    func degenerateRange() {
        var plot = Plot()
        plot.addLine(x: [1, 1, 1], y: [3, 3, 3])
        let text = Figure(plot).svg()
        #expect(!text.contains("nan"))
        #expect(!text.contains("inf"))
        let svg = SVGInspector(text)
        #expect(svg.isWellFormed)
        #expect(svg.elements(named: "path", class: "line").count == 1)
        // y spans 3 ± 0.3; its ticks are 2.8, 3.0, 3.2 with some step of 0.1 or 0.2.
        let yLabels = svg.elements(named: "text").filter { $0.attributes["text-anchor"] == "end" }.map(\.text)
        #expect(yLabels.contains("3.0"))
    }

    @Test("extreme values give a valid picture")
    func extremeValues() {
        let cases: [[Double]] = [
            [-1e308, 1e308],
            [Double.leastNonzeroMagnitude, 2 * Double.leastNonzeroMagnitude],
            [1e15, 1e15 + 1],
            [-.infinity, .nan],
        ]
        for values in cases {
            var plot = Plot()
            plot.addLine(x: [0, 1], y: values)
            var logPlot = Plot()
            logPlot.yScale = .log10
            logPlot.addScatter(x: [0, 1], y: values)
            let text = Figure(columns: 2, plots: [plot, logPlot]).svg()
            let svg = SVGInspector(text)
            #expect(svg.isWellFormed, "values \(values)")
            #expect(!text.contains("nan"), "values \(values)")
            #expect(!text.contains("inf"), "values \(values)")
        }
    }

    @Test("empty figure gives a valid picture")
    func emptyFigure() {
        let svg = SVGInspector(Figure().svg())
        #expect(svg.isWellFormed)
        #expect(svg.elements.first?.attributes["width"] == "480")
    }

    @Test("quiver draws one arrow per non-zero vector")
    func quiverArrows() {
        var plot = Plot(title: "Phase portrait")
        plot.equalAspect = true
        var x: [Double] = []
        var y: [Double] = []
        for i in -2...2 {
            for j in -2...2 {
                x.append(Double(i))
                y.append(Double(j))
            }
        }
        // A rotation field u = -y, v = x: zero only at the origin.
        plot.addQuiver(x: x, y: y, u: y.map { -$0 }, v: x)
        let svg = SVGInspector(Figure(plot).svg())
        #expect(svg.isWellFormed)
        #expect(svg.elements(named: "path", class: "arrow").count == 24)
    }

    @Test("equal aspect gives equal pixels per unit")
    func equalAspect() throws {
        var plot = Plot()
        plot.equalAspect = true
        plot.showsGrid = false
        plot.addLine(x: [-1, 1], y: [-4, 4])
        let svg = SVGInspector(Figure(plot, width: 500, height: 300).svg())
        let labels = svg.elements(named: "text")
        let xTicks = labels.filter { $0.attributes["text-anchor"] == "middle" && $0.attributes["class"] == nil }
        let yTicks = labels.filter { $0.attributes["text-anchor"] == "end" }
        try #require(xTicks.count >= 2 && yTicks.count >= 2)

        func pixelsPerUnit(_ ticks: [SVGElement], coordinate: String) throws -> Double {
            let a = try #require(Double(ticks[0].text))
            let b = try #require(Double(ticks[1].text))
            let pa = try #require(Double(ticks[0].attributes[coordinate] ?? ""))
            let pb = try #require(Double(ticks[1].attributes[coordinate] ?? ""))
            return abs(pb - pa) / abs(b - a)
        }
        let xScale = try pixelsPerUnit(xTicks, coordinate: "x")
        let yScale = try pixelsPerUnit(yTicks, coordinate: "y")
        // Coordinates carry two decimals, so the scales agree to about 1e-4 relative; without
        // equal aspect they would differ sevenfold here.
        #expect(abs(xScale - yScale) < 1e-3 * xScale)
    }

    @Test("automatic legend avoids the data")
    func automaticLegend() throws {
        var plot = Plot()
        // Points fill the top-right corner; the other corners are empty.
        var x: [Double] = [0]
        var y: [Double] = [0]
        for i in 0..<10 {
            for j in 0..<10 {
                x.append(7 + 0.3 * Double(i))
                y.append(7 + 0.3 * Double(j))
            }
        }
        plot.addScatter(x: x, y: y, label: "cloud")
        let svg = SVGInspector(Figure(plot, width: 480, height: 360).svg())
        let legendIndex = try #require(svg.elements.firstIndex { $0.attributes["class"] == "legend" })
        let box = svg.elements[legendIndex + 1]
        #expect(box.name == "rect")
        let boxX = try #require(Double(box.attributes["x"] ?? ""))
        let boxY = try #require(Double(box.attributes["y"] ?? ""))
        #expect(boxX < 240)
        #expect(boxY < 180)

        plot.legendPosition = .bottomRight
        let fixed = SVGInspector(Figure(plot, width: 480, height: 360).svg())
        let fixedIndex = try #require(fixed.elements.firstIndex { $0.attributes["class"] == "legend" })
        #expect(try #require(Double(fixed.elements[fixedIndex + 1].attributes["y"] ?? "")) > 180)
    }

    @Test("figure lays plots out in a grid")
    func gridLayout() {
        var figure = Figure(columns: 2, plotWidth: 300, plotHeight: 200, title: "Densities")
        for name in ["a", "b", "c"] {
            var plot = Plot(title: name)
            plot.addLine(x: [0, 1], y: [0, 1])
            figure.add(plot)
        }
        let svg = SVGInspector(figure.svg())
        #expect(svg.isWellFormed)
        let root = svg.elements[0]
        #expect(root.attributes["width"] == "600")
        #expect(root.attributes["height"] == "432")
        #expect(svg.texts(class: "figure-title") == ["Densities"])
        let plots = svg.elements(named: "g", class: "plot")
        #expect(plots.map { $0.attributes["transform"] } == [
            "translate(0 32)", "translate(300 32)", "translate(0 232)",
        ])
        // Each plot has its own clip path id.
        let clipIDs = svg.elements(named: "clipPath").compactMap { $0.attributes["id"] }
        #expect(Set(clipIDs).count == 3)
    }

    @Test("writeSVG writes the document")
    func writeSVGFile() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/loss.svg"
        let figure = Figure(trainingPlot())
        try figure.writeSVG(to: path)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written == figure.svg())
        #expect(try folder.fileNames() == ["loss.svg"])
    }

    @Test("writeSVG into a missing folder names the path")
    func writeSVGMissingFolder() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/missing/loss.svg"
        #expect {
            try Figure(trainingPlot()).writeSVG(to: path)
        } throws: { error in
            let message = "\(error)"
            return message.contains("'\(path)'") && message.contains("No such file or directory")
        }
    }
}
