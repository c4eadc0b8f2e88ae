import Datasets
import Foundation
import ODESolvers
import Plotting
import TensorEngine

/// The pictures of the latent time-series experiment (Chen et al., "Neural Ordinary
/// Differential Equations", NeurIPS 2018, Figures 8 and 9).
public enum LatentPictures {
    /// Writes the pictures of `experiment` into `folder` and returns their paths:
    ///
    /// - `reconstructions.svg`: four held-out spirals (two per direction) with their noise-free
    ///   path, the observations the model read, and its reconstruction and extrapolation. For
    ///   CSV data, it draws each channel of four series against time.
    /// - `latent-trajectories.svg`, for a latent ODE on spirals: the latent trajectories of the
    ///   held-out spirals on their first two dimensions, coloured by direction.
    /// - `latent-interpolation.svg`, for a latent ODE on spirals: the decoded paths of initial
    ///   states interpolated between the codes of a clockwise and a counter-clockwise spiral.
    public static func write(_ experiment: LatentODEExperiment, to folder: URL) throws -> [URL] {
        var figures: [(String, Figure)] = []
        if experiment.spirals != nil, let test = experiment.testDataset {
            figures.append(("reconstructions.svg", try spiralReconstructions(experiment, test: test)))
            if experiment.latentModel != nil {
                figures.append(("latent-trajectories.svg", try latentTrajectories(experiment, test: test)))
                figures.append(("latent-interpolation.svg", try latentInterpolation(experiment, test: test)))
            }
        } else if experiment.latentModel != nil {
            figures.append(("reconstructions.svg", try seriesReconstructions(experiment)))
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var urls: [URL] = []
        for (name, figure) in figures {
            let url = folder.appendingPathComponent(name)
            try figure.writeSVG(to: url.path)
            urls.append(url)
        }
        return urls
    }

    /// Test positions of up to two clockwise and two counter-clockwise spirals.
    static func exampleSeries(_ experiment: LatentODEExperiment) -> [Int] {
        let spirals = experiment.spirals!
        let positions = Array(experiment.testSpirals.indices)
        let clockwise = positions.filter { spirals.isClockwise[experiment.testSpirals[$0]] }.prefix(2)
        let counterClockwise = positions.filter { !spirals.isClockwise[experiment.testSpirals[$0]] }.prefix(2)
        return Array(clockwise) + Array(counterClockwise)
    }

    static func spiralReconstructions(_ experiment: LatentODEExperiment, test: IrregularTimeSeriesDataset) throws
        -> Figure
    {
        let spirals = experiment.spirals!
        let chosen = exampleSeries(experiment)
        let batch = test.batch(chosen)
        let observed = spirals.configuration.observedCount
        let times = spirals.times

        // Predictions at every time of the spirals, `[times, series, 2]`.
        let predictions: Tensor<Float>
        var firstPredicted = 0
        if experiment.latentModel != nil {
            predictions = try experiment.latentTrajectory(from: experiment.posteriorMean(batch), at: times).predictions
        } else {
            predictions = withoutGradients { experiment.forecaster!.forecast(batch, at: spirals.extrapolationTimes) }
            firstPredicted = observed
        }
        let values = predictions.doubles

        var plots: [Plot] = []
        for (column, position) in chosen.enumerated() {
            let spiral = experiment.testSpirals[position]
            let direction = spirals.isClockwise[spiral] ? "clockwise" : "counter-clockwise"
            var plot = Plot(title: "Spiral \(spiral) (\(direction))", xLabel: "x", yLabel: "y")
            plot.equalAspect = true
            let truth = (0..<times.count).map { spirals.point(spiral: spiral, point: $0) }
            plot.addLine(x: truth.map(\.x), y: truth.map(\.y), label: "ground truth", color: .gray, width: 1)
            let series = test.series[position]
            plot.addScatter(
                x: stride(from: 0, to: series.values.count, by: 2).map { Double(series.values[$0]) },
                y: stride(from: 1, to: series.values.count, by: 2).map { Double(series.values[$0]) },
                label: "observations", color: Palette.color(at: 0), size: 3)
            let point = { (row: Int) -> (Double, Double) in
                let index = (row * chosen.count + column) * 2
                return (values[index], values[index + 1])
            }
            if firstPredicted == 0 {
                let inside = (0..<observed).map(point)
                plot.addLine(x: inside.map(\.0), y: inside.map(\.1), label: "reconstruction", color: Palette.color(at: 1))
            }
            let rowOffset = firstPredicted == 0 ? 0 : observed
            let outside = (observed..<times.count).map { point($0 - rowOffset) }
            plot.addLine(
                x: outside.map(\.0), y: outside.map(\.1), label: "extrapolation", color: Palette.color(at: 5),
                dashed: true)
            plots.append(plot)
        }
        return Figure(
            columns: 2, plotWidth: 420, plotHeight: 380,
            title: "\(experiment.configuration.model.displayName), n = \(experiment.configuration.observationCount)",
            plots: plots)
    }

    static func latentTrajectories(_ experiment: LatentODEExperiment, test: IrregularTimeSeriesDataset) throws
        -> Figure
    {
        let spirals = experiment.spirals!
        let shown = Array(0..<min(test.series.count, 60))
        let batch = test.batch(shown)
        let times = spirals.times
        let latent = try experiment.latentTrajectory(from: experiment.posteriorMean(batch), at: times).latent
        let dimension = latent.shape[2]
        let values = latent.doubles
        var plot = Plot(title: "Latent trajectories (dimensions 1 and 2)", xLabel: "z₁", yLabel: "z₂")
        var labelled: Set<Bool> = []
        for (column, position) in shown.enumerated() {
            let clockwise = spirals.isClockwise[experiment.testSpirals[position]]
            let x = (0..<times.count).map { values[($0 * shown.count + column) * dimension] }
            let y = (0..<times.count).map { values[($0 * shown.count + column) * dimension + min(1, dimension - 1)] }
            // Only the first line of each direction gets a legend entry.
            var label: String?
            if labelled.insert(clockwise).inserted { label = clockwise ? "clockwise" : "counter-clockwise" }
            plot.addLine(x: x, y: y, label: label, color: Palette.color(at: clockwise ? 0 : 1), width: 1)
        }
        return Figure(plot, width: 520, height: 440)
    }

    static func latentInterpolation(_ experiment: LatentODEExperiment, test: IrregularTimeSeriesDataset) throws
        -> Figure
    {
        let spirals = experiment.spirals!
        let chosen = exampleSeries(experiment)
        let clockwise = chosen.first { spirals.isClockwise[experiment.testSpirals[$0]] } ?? chosen[0]
        let counterClockwise = chosen.first { !spirals.isClockwise[experiment.testSpirals[$0]] } ?? chosen[chosen.count - 1]
        let codes = experiment.posteriorMean(test.batch([clockwise, counterClockwise])).scalars
        let dimension = codes.count / 2
        let steps = 9
        var initial: [Float] = []
        for step in 0..<steps {
            let weight = Float(step) / Float(steps - 1)
            for d in 0..<dimension { initial.append((1 - weight) * codes[d] + weight * codes[dimension + d]) }
        }
        let times = spirals.times
        let predictions = try experiment.latentTrajectory(
            from: Tensor(shape: [steps, dimension], scalars: initial), at: times
        ).predictions.doubles
        var plot = Plot(
            title: "Decoded paths, z₀ from a clockwise to a counter-clockwise code",
            xLabel: "x", yLabel: "y")
        plot.equalAspect = true
        for step in 0..<steps {
            let x = (0..<times.count).map { predictions[($0 * steps + step) * 2] }
            let y = (0..<times.count).map { predictions[($0 * steps + step) * 2 + 1] }
            var label: String?
            if step == 0 { label = "clockwise code" }
            if step == steps - 1 { label = "counter-clockwise code" }
            plot.addLine(x: x, y: y, label: label, color: ColorMap.viridis.color(at: Double(step) / Double(steps - 1)))
        }
        return Figure(plot, width: 640, height: 420)
    }

    static func seriesReconstructions(_ experiment: LatentODEExperiment) throws -> Figure {
        let dataset = experiment.dataset
        let chosen = Array(0..<min(4, dataset.series.count))
        let batch = dataset.batch(chosen)
        // Beyond the last observation; series observed at one time only get the unit interval.
        let lastTime = batch.lastTimes.max() ?? 0
        let end = lastTime > 0 ? lastTime * 1.2 : 1
        let count = 200
        let times = (0..<count).map { end * Double($0) / Double(count - 1) }
        let predictions = try experiment.latentTrajectory(from: experiment.posteriorMean(batch), at: times)
            .predictions.doubles
        let channels = dataset.channelCount
        var plots: [Plot] = []
        for (column, position) in chosen.enumerated() {
            let series = dataset.series[position]
            var plot = Plot(title: "Series \(series.id)", xLabel: "time", yLabel: "value")
            for channel in 0..<channels {
                let color = Palette.color(at: channel)
                let observed = series.times.indices.filter { series.mask[$0 * channels + channel] }
                plot.addScatter(
                    x: observed.map { series.times[$0] }, y: observed.map { Double(series.values[$0 * channels + channel]) },
                    label: dataset.channelNames[channel], color: color, size: 3)
                plot.addLine(
                    x: times, y: (0..<count).map { predictions[($0 * chosen.count + column) * channels + channel] },
                    color: color)
            }
            plots.append(plot)
        }
        return Figure(columns: 2, plotWidth: 480, plotHeight: 320, title: "Latent ODE reconstructions", plots: plots)
    }
}
