import Foundation
import NeuralODE
import ODESolvers
import Plotting
import TensorEngine

/// The pictures of the continuous-normalizing-flow experiments, as PNG heatmaps: densities
/// evaluated on a grid, and two-dimensional histograms of samples.
public enum CNFPictures {
    /// Draws the panels of one density-matching row: the target density, the planar flow's samples,
    /// the continuous flow's samples and the continuous flow's density, each
    /// `resolution × resolution` over `[-4, 4]²`.
    public static func densityMatchingPanels(
        _ matching: DensityMatching, resolution: Int = 100, sampleCount: Int = 20_000
    ) throws -> [RasterImage] {
        let grid = DensityGrid(extent: 4, resolution: resolution)
        let target = withoutGradients {
            matching.configuration.target.energy(grid.points() as Tensor<Double>).doubles.map { Foundation.exp(-$0) }
        }
        var generator = RandomGenerator(seed: matching.configuration.seed ^ 0xD1CE)
        let base = matching.flow.sampleBase(count: sampleCount, generator: &generator)
        let planarSamples = withoutGradients { matching.planar(base).points }
        let (flowSamples, flowDensity) = try withoutGradients {
            let samples = try matching.flow.sample(from: base).samples
            let density = try matching.flow.logDensity(of: grid.points()).logDensity.doubles.map { Foundation.exp($0) }
            return (samples, density)
        }
        return [
            heatmap(target, resolution: resolution),
            heatmap(grid.histogram(planarSamples), resolution: resolution),
            heatmap(grid.histogram(flowSamples), resolution: resolution),
            heatmap(flowDensity, resolution: resolution),
        ]
    }

    /// Titles of the columns of `densityMatchingPanels`.
    public static let densityMatchingTitles = ["TARGET", "NF SAMPLES", "CNF SAMPLES", "CNF DENSITY"]

    /// Writes the rows of panels (one row per target, from `densityMatchingPanels`) as one
    /// picture, each panel titled with its target and column.
    public static func writeDensityMatching(
        rows: [(target: TargetDensity, panels: [RasterImage])], to url: URL
    ) throws {
        let images = rows.flatMap(\.panels)
        let titles = rows.flatMap { row in densityMatchingTitles.map { "\(row.target.rawValue) \($0)" } }
        try RasterImage.grid(images, columns: densityMatchingTitles.count, spacing: 4, titles: titles)
            .upscaled(by: 2).writePNG(to: url.path)
    }

    /// Writes `density.png` (a histogram of the data, the learned density and a histogram of
    /// the flow's samples) and `flow.png` (histograms of the samples at `stages` times from
    /// `startTime` to `endTime`, as they flow from noise to data) into `folder`, and returns
    /// their paths.
    public static func writeMaximumLikelihood(
        _ training: MaximumLikelihoodTraining, to folder: URL, resolution: Int = 100,
        sampleCount: Int = 20_000, stages: Int = 6
    ) throws -> [URL] {
        let flow = training.flow
        let grid = DensityGrid(extent: training.configuration.dataset.extent, resolution: resolution)
        var generator = RandomGenerator(seed: training.configuration.seed ^ 0xD1CE)
        let data: Tensor<Float> = training.configuration.dataset.sample(count: sampleCount, generator: &generator)
        let base = flow.sampleBase(count: sampleCount, generator: &generator)
        let times = (0..<stages).map {
            flow.startTime + (flow.endTime - flow.startTime) * Double($0) / Double(stages - 1)
        }
        let density = try training.logDensity(of: grid.points()).map { Foundation.exp($0) }
        let points = try withoutGradients { try flow.sample(from: base, at: times).transport.points }

        let stagePanels = (0..<stages).map { stage in
            heatmap(grid.histogram(points.selecting(index: stage)), resolution: resolution)
        }
        let densityPicture = RasterImage.grid(
            [heatmap(grid.histogram(data), resolution: resolution), heatmap(density, resolution: resolution),
             stagePanels[stages - 1]],
            columns: 3, spacing: 4, titles: ["DATA", "CNF DENSITY", "CNF SAMPLES"])
        let flowPicture = RasterImage.grid(
            stagePanels, columns: stages, spacing: 4,
            titles: times.map { "T = \(String(format: "%.3g", $0))" })

        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let densityURL = folder.appendingPathComponent("density.png")
        let flowURL = folder.appendingPathComponent("flow.png")
        try densityPicture.upscaled(by: 2).writePNG(to: densityURL.path)
        try flowPicture.upscaled(by: 2).writePNG(to: flowURL.path)
        return [densityURL, flowURL]
    }

    /// Draws non-negative values as a viridis heatmap from 0 to their maximum.
    static func heatmap(_ values: [Double], resolution: Int) -> RasterImage {
        let maximum = values.filter(\.isFinite).max() ?? 1
        return RasterImage(
            heatmap: values, width: resolution, height: resolution, colorMap: .viridis,
            range: 0...(maximum > 0 ? maximum : 1))
    }
}
